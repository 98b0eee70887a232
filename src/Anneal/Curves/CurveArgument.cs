using Anneal.Schedules;

namespace Anneal.Curves;

/// <summary>
/// The CLI form of a curve: <c>FILE</c> or <c>FILE@SPEC</c>, e.g.
/// <c>runs/a.csv@cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)</c>. The spec is the exact
/// schedule that produced the run; it is validated with <see cref="Schedule.Parse"/>, stored
/// canonically in <see cref="LossCurve.ScheduleSpec"/>, and compared with the logged LR (a
/// disagreement above 1% becomes a warning, since it usually means a wrong spec).
/// </summary>
public static class CurveArgument
{
    /// <summary>Reads the file and attaches the spec, if any.</summary>
    public static LossCurve Parse(string arg, CurveReadOptions? options = null)
    {
        var (file, spec) = Split(arg);
        Schedule? schedule = null;
        if (spec is not null)
        {
            try { schedule = Schedule.Parse(spec); }
            catch (InputException e) { throw new CurveFormatException($"{arg}: the schedule after '@' is not valid: {e.Message}"); }
        }
        var curve = CurveReader.Read(file, options);
        return schedule is null ? curve : Attach(curve, schedule);
    }

    /// <summary>
    /// Splits at the first '@' that is followed by a spec (a name, then '(' or the end), so
    /// folder names containing '@' still work. A path that exists as given is never split.
    /// </summary>
    public static (string File, string? Spec) Split(string arg)
    {
        if (string.IsNullOrWhiteSpace(arg)) throw new CurveFormatException("empty curve argument: expected FILE or FILE@SPEC, e.g. runs/a.csv@cosine(peak=3e-4, total=24000)");
        if (File.Exists(arg)) return (arg, null);
        // "FILE@" (a schedule left out, or lost to the shell's quoting) would otherwise be "file not found" for "FILE@"
        if (arg.TrimEnd().EndsWith('@') && arg.TrimEnd()[..^1] is { Length: > 0 } bare && (File.Exists(bare) || Directory.Exists(bare)))
            throw new CurveFormatException($"{arg}: nothing after '@': attach the run's exact schedule, e.g. {bare}@cosine(peak=3e-4, total=24000) (quote it), or leave the '@' out");
        for (int at = arg.IndexOf('@'); at >= 0; at = arg.IndexOf('@', at + 1))
        {
            if (at == 0) continue;
            var rest = arg[(at + 1)..].TrimStart();
            int i = 0;
            while (i < rest.Length && (char.IsLetterOrDigit(rest[i]) || rest[i] == '_')) i++;
            if (i == 0 || !char.IsLetter(rest[0])) continue;
            var tail = rest[i..].TrimStart();
            if (tail.Length == 0 || tail[0] == '(') return (arg[..at], rest);
        }
        return (arg, null);
    }

    /// <summary>Attaches <paramref name="schedule"/> and warns when it disagrees with the logged LR.</summary>
    public static LossCurve Attach(LossCurve curve, Schedule schedule)
    {
        var warnings = curve.Warnings.ToList();
        if (curve.Lr is { } lr)
        {
            double worst = 0;
            long worstStep = 0;
            double worstLogged = 0, worstSpec = 0;
            for (int i = 0; i < lr.Length; i++)
            {
                if (double.IsNaN(lr[i])) continue;
                double s = schedule.At(curve.Steps[i]);
                double rel = Math.Abs(s - lr[i]) / Math.Max(Math.Abs(lr[i]), 1e-12);
                if (rel > worst) { worst = rel; worstStep = curve.Steps[i]; worstLogged = lr[i]; worstSpec = s; }
            }
            if (worst > 0.01)
                warnings.Add($"{curve.SourceFile ?? curve.Name}: the attached schedule {schedule.Spec} gives lr={worstSpec:G4} at step {worstStep} but the file logs {worstLogged:G4} ({worst:P0} apart); check the spec");
        }
        return curve with { ScheduleSpec = schedule.Spec, Warnings = warnings };
    }
}
