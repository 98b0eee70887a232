using System.Globalization;
using System.Text;
using Anneal.Curves;
using Anneal.Schedules;
using static Anneal.ParameterName;

namespace Anneal.Design;

/// <summary>The formats a schedule is exported in.</summary>
public enum ExportFormat
{
    /// <summary><c>step,lr</c> per step.</summary>
    Csv,
    /// <summary>Multipliers lr/peak per step (<see cref="ScheduleExport.MultipliersFormat"/>).</summary>
    Json,
    /// <summary>The multipliers JSON plus a LambdaLR snippet that reads it.</summary>
    Pytorch,
    /// <summary>A Hugging Face transformers scheduler (<see cref="HfExport"/>), for specs it expresses exactly.</summary>
    Hf,
}

/// <summary>A request to export a schedule: a spec, or per-step rates (exactly one).</summary>
/// <param name="Steps">Number of optimizer steps T.</param>
/// <param name="Format">The format.</param>
public sealed record ExportRequest(long Steps, ExportFormat Format)
{
    /// <summary>The schedule, as a spec.</summary>
    public Schedule? Schedule { get; init; }

    /// <summary>The schedule as the rate of every step from 0 (at least <see cref="Steps"/> of them; e.g. read with <see cref="LrFile"/>).</summary>
    public double[]? Rates { get; init; }

    /// <summary>Where <see cref="Rates"/> came from, for the output's <c>source</c> and messages.</summary>
    public string RatesSource { get; init; } = "per-step rates";

    /// <summary>The multipliers file's name as the PyTorch snippet should open it.</summary>
    public string MultipliersFile { get; init; } = "schedule.json";
}

/// <summary>An exported schedule: the text of the file, and for PyTorch the snippet that reads it.</summary>
public sealed record ExportResult(string Text, string? Snippet);

/// <summary>Exporting a schedule for a training framework, and the one <c>step,lr</c> writer of designed schedules.</summary>
public static class ScheduleExport
{
    /// <summary>Largest number of steps exported: a schedule table's (<see cref="ScheduleTable.MaxSteps"/>; the export streams).</summary>
    public const long MaxSteps = ScheduleTable.MaxSteps;

    /// <summary>The versioned name of the multipliers JSON.</summary>
    public const string MultipliersFormat = "anneal-multipliers/1";

    /// <summary>Throws <see cref="InputException"/> unless <paramref name="steps"/> is in [1, <see cref="MaxSteps"/>].</summary>
    public static void CheckSteps(long steps)
    {
        if (steps <= 0 || steps > MaxSteps) throw InputException.Naming($"{Parameter("steps")} must be between 1 and {MaxSteps}, got {steps}");
    }

    /// <summary>
    /// The export as text (<see cref="Write"/> into a string: for small exports and tests; a large one streams with
    /// <see cref="Write"/>).
    /// </summary>
    public static ExportResult Export(ExportRequest request)
    {
        var w = new StringWriter { NewLine = "\n" };
        var snippet = Write(request, w);
        return new ExportResult(w.ToString(), snippet);
    }

    /// <summary>
    /// Writes the export to <paramref name="output"/> while the rates are computed, a block at a time
    /// (<see cref="ScheduleTable"/>: memory stays small at <see cref="MaxSteps"/>), and returns the PyTorch snippet
    /// (null for the other formats). Checks the request first (errors name the parameters <c>steps</c> and
    /// <c>format</c>): a table must hold at least <see cref="ExportRequest.Steps"/> rates; HF needs a spec it
    /// expresses exactly.
    /// </summary>
    public static string? Write(ExportRequest request, TextWriter output)
    {
        long t = request.Steps;
        CheckSteps(t);
        if ((request.Schedule is null) == (request.Rates is null)) throw new ArgumentException("give the schedule either as a spec or as per-step rates (one of them)");
        string source = request.Schedule?.Spec ?? request.RatesSource;
        RateFill fill;
        if (request.Rates is { } rates)
        {
            if (rates.Length < t) throw InputException.Naming($"{request.RatesSource}: has {rates.Length} steps, fewer than {Parameter("steps")} {t}; pass {Parameter("steps")} {rates.Length} or extend the table");
            fill = ScheduleTable.FromArray(rates);
        }
        else fill = request.Schedule!.Fill;
        switch (request.Format)
        {
            case ExportFormat.Csv:
                ScheduleTable.WriteCsv(fill, t, output);
                return null;
            case ExportFormat.Json:
            case ExportFormat.Pytorch:
            {
                double peak = ScheduleTable.WriteMultipliersJson(fill, t, source, output);
                return request.Format == ExportFormat.Pytorch ? PytorchSnippet(request.MultipliersFile, peak) : null;
            }
            default:
            {
                if (request.Schedule is not { } schedule) throw InputException.Naming($"{source}: {Parameter("format")} hf needs a schedule spec (a per-step table has no HF equivalent; use {Parameter("format")} pytorch)");
                var hf = HfExport.Exact(schedule, t);
                output.WriteLine(hf.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return null;
            }
        }
    }

    /// <summary><c>step,lr</c> then one row per step from 0, rates written round-trip (<c>R</c>).</summary>
    public static string Csv(double[] lr)
    {
        var sb = new StringBuilder(lr.Length * 24);
        sb.Append("step,lr\n");
        for (int i = 0; i < lr.Length; i++) sb.Append(i).Append(',').Append(lr[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    /// <summary>A self-contained PyTorch snippet: LambdaLR over the exported multipliers (optimizer lr = peak).</summary>
    public static string PytorchSnippet(string file, double peak) => $$"""
        # PyTorch: set the optimizer's lr to the peak, then scale it per step with the exported multipliers.
        import json
        import torch

        with open("{{file}}") as f:
            _sched = json.load(f)
        _mult = _sched["multipliers"]

        def lr_lambda(step: int) -> float:
            return _mult[min(step, len(_mult) - 1)]

        # optimizer = torch.optim.AdamW(model.parameters(), lr={{peak.ToString("R", CultureInfo.InvariantCulture)}})
        # scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
        # call scheduler.step() after every optimizer.step()
        """;
}
