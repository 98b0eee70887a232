using System.CommandLine;
using Anneal.Curves;

namespace Anneal.Cli.Commands;

/// <summary>Options naming curve-file columns, shared by every command that reads curves.</summary>
public sealed class CurveColumnOptions
{
    public Option<string?> Step { get; } = new("--step-col") { Description = "Column (or JSON key) holding the step, when not one of the usual names." };
    public Option<string?> Loss { get; } = new("--loss-col") { Description = "Column holding the training loss, when not one of the usual names." };
    public Option<string?> Lr { get; } = new("--lr-col") { Description = "Column holding the learning rate, when not one of the usual names." };
    public Option<string?> Val { get; } = new("--val-col") { Description = "Column holding the validation loss, when not one of the usual names." };
    public Option<bool> StopAtNonFinite { get; } = new("--stop-at-nonfinite") { Description = "Read a diverged run: stop at the first NaN/infinite training loss and keep the rows before it (CSV, JSON Lines)." };

    /// <summary>Adds the options to <paramref name="cmd"/>.</summary>
    public void AddTo(Command cmd)
    {
        cmd.Options.Add(Step);
        cmd.Options.Add(Loss);
        cmd.Options.Add(Lr);
        cmd.Options.Add(Val);
        cmd.Options.Add(StopAtNonFinite);
    }

    /// <summary>A fresh set added to <paramref name="cmd"/>: every command that reads curves takes the same options.</summary>
    public static CurveColumnOptions For(Command cmd)
    {
        var o = new CurveColumnOptions();
        o.AddTo(cmd);
        return o;
    }

    /// <summary>The read options the user asked for.</summary>
    public CurveReadOptions Get(ParseResult r) => new()
    {
        StepColumn = r.GetValue(Step),
        LossColumn = r.GetValue(Loss),
        LrColumn = r.GetValue(Lr),
        ValLossColumn = r.GetValue(Val),
        StopAtNonFinite = r.GetValue(StopAtNonFinite),
    };
}

/// <summary>What the curve readers tell the user, printed the same way by every command.</summary>
public static class CurveMessages
{
    /// <summary>
    /// Prints a curve's notes (choices the reader made) and warnings (things it accepted) to <paramref name="err"/>, the
    /// read options the notes name as the command <paramref name="parse"/> calls them (<see cref="OptionNames"/>).
    /// </summary>
    public static void Print(LossCurve c, TextWriter err, ParseResult parse)
    {
        foreach (var n in c.NotesNaming(OptionNames.Of(parse))) err.WriteLine("note: " + n);
        foreach (var w in c.Warnings) err.WriteLine("warning: " + w);
    }
}
