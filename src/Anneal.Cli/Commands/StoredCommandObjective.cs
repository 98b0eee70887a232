using Anneal.Curves;
using Anneal.Store;
using Anneal.Tuning;
using TrialState = Anneal.Tuning.TrialState;

namespace Anneal.Cli.Commands;

/// <summary>
/// An external command's trial (<see cref="CommandObjective"/>) whose log is stored as a run when the trial ends and
/// linked to the trial, so the dashboard shows every trial's whole curve (all the columns the log has, not only the
/// reported metric). A pruned trial's run is marked stopped, a failed one's failed. A log the readers cannot read (the
/// program wrote none, or crashed mid-line) leaves the trial without a run; the trial's own result is unchanged.
/// </summary>
internal sealed class StoredCommandObjective(CommandObjective inner, RunStore store, long studyId, string studyName) : ITrialObjective
{
    public TrialResult Run(TrialContext ctx)
    {
        var result = inner.Run(ctx);
        string log = inner.LogPath(ctx.Number, ctx.Params);
        LossCurve curve;
        try { curve = CurveReader.Read(log); }
        catch (InputException) { return result; }
        long runId = store.ImportCurve(curve, new NewRun { Name = $"{studyName} trial {ctx.Number}", Tags = ["sweep", studyName], Schedule = ctx.Schedule, SourceFile = log });
        if (result.State != TrialState.Complete) store.SetRunStatus(runId, result.State == TrialState.Pruned ? RunStatus.Stopped : RunStatus.Failed);
        StoreStudyStorage.LinkRun(store, studyId, ctx.Number, runId);
        return result;
    }
}
