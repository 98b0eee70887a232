using System.CommandLine;
using System.Globalization;
using Anneal.Curves;
using Anneal.Fitting;
using Anneal.Plotting;
using Anneal.Prediction;
using Anneal.Schedules;

namespace Anneal.Cli.Commands;

/// <summary><c>anneal fit | predict | evaluate | demo | accuracy</c>: loss-curve laws.</summary>
public static partial class LawCommands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>All law commands, to add at the root.</summary>
    public static IEnumerable<Command> Build() => [Fit(), Predict(), Evaluate(), Demo(), Accuracy()];

    private static Option<string> TargetOption() => new("--target") { Description = "Which loss to fit: loss (training, default) or val.", DefaultValueFactory = _ => "loss" };

    private static Option<long?> FromStepOption() => new("--from-step")
    {
        Description = "Fit and score only logged points at steps >= S (default: from the end of each run's warmup, where its LR first peaks; 0 keeps every point).",
    };

    /// <summary>Reads the curve arguments (FILE or FILE@SCHEDULE), printing what the readers had to guess.</summary>
    private static LossCurve[] ReadCurves(IEnumerable<string> args, CurveReadOptions read, ParseResult parse) => args.Select(a =>
    {
        var curve = CurveArgument.Parse(a, read);
        CurveMessages.Print(curve, CliContext.Of(parse).Err, parse);
        return curve;
    }).ToArray();

    private static void PrintNotes(IEnumerable<string> notes, TextWriter err)
    {
        foreach (var n in notes) err.WriteLine("note: " + n);
    }

    /// <summary>The fits' progress lines, on the command's error writer.</summary>
    private static IProgress<string> FitProgress(TextWriter err) => new SyncProgress<string>(err.WriteLine);

    private static Option<string> MethodOption() => new("--method")
    {
        Description = "auto (the law's own: reference for mpl(warmup=reference), optimum otherwise), optimum (Levenberg-Marquardt to the exact Huber optimum) or reference (the multi-power-law reference procedure: early-stopped AdamW from the reference initialisation; validated for mpl(warmup=reference) only: on other laws its 20-step patience often stops it after ~20 steps).",
        DefaultValueFactory = _ => "auto",
    };

    private static FitMethod? ParseMethod(string m) => m switch
    {
        "auto" => null,
        "optimum" => FitMethod.Optimum,
        "reference" => FitMethod.EarlyStoppedAdamW,
        _ => throw new InputException($"--method must be auto, optimum or reference, got '{m}'"),
    };
}
