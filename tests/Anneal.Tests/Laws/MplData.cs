using System.Globalization;
using Anneal.Laws;

namespace Anneal.Tests.Laws;

/// <summary>
/// The multi-power-law benchmark curves in data/examples/mpl (step,lr,loss every 128 steps after the 2160-step
/// warmup) with their exact schedules, read by a tiny local CSV reader so the law tests do not
/// depend on the curve reader.
/// </summary>
internal static class MplData
{
    public static readonly string[] FitSplit = ["cosine_24000", "constant_24000", "wsdcon_9"];
    public static readonly string[] TestSplit = ["constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3", "wsdcon_18"];

    /// <summary>Exact schedule of a benchmark file, by its name (warmup W = 2160, peak 3e-4).</summary>
    public static string Spec(string name)
    {
        var parts = name.Split('_');
        return parts[0] switch
        {
            "constant" => "constant(peak=3e-4, warmup=2160)",
            "cosine" => $"cosine(peak=3e-4, total={parts[1]}, warmup=2160, min=3e-5)",
            "wsd" => "wsd(peak=3e-4, total=24000, warmup=2160, decay_steps=4000, shape=exponential, min=3e-5)",
            "wsdld" => "wsd(peak=3e-4, total=24000, warmup=2160, decay_steps=4000, shape=linear, min=3e-5)",
            "wsdcon" => $"join(constant(peak=3e-4, warmup=2160), constant(peak={parts[1]}e-5), at=[8000])",
            _ => throw new ArgumentException(name),
        };
    }

    public static (long[] Steps, double[] Lr, double[] Loss) ReadCsv(string path)
    {
        var steps = new List<long>(); var lr = new List<double>(); var loss = new List<double>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            if (line.Length == 0) continue;
            var f = line.Split(',');
            steps.Add((long)double.Parse(f[0], CultureInfo.InvariantCulture));
            lr.Add(double.Parse(f[1], CultureInfo.InvariantCulture));
            loss.Add(double.Parse(f[2], CultureInfo.InvariantCulture));
        }
        return (steps.ToArray(), lr.ToArray(), loss.ToArray());
    }

    public static LawRun Run(string size, string name)
    {
        var (steps, _, loss) = ReadCsv(TestPaths.Mpl(size, name + ".csv"));
        var spec = Spec(name);
        var eta = Anneal.Schedules.Schedule.Parse(spec).Sample((int)steps[^1] + 1);
        return new LawRun { Name = name, Eta = eta, Steps = steps, Observed = loss, EtaSource = spec }.Validate();
    }

    public static LawRun[] Runs(string size, IEnumerable<string> names) => names.Select(n => Run(size, n)).ToArray();

    /// <summary>Published parameters [L0, A, alpha, B, C, beta, gamma] (../shared/docs/laws.md; fitted in the reference convention).</summary>
    public static double[] Published(string size) => size switch
    {
        "25m" => [3.0405, 0.5247, 0.5079, 363.79, 2.0656, 0.5828, 0.6414],
        "100m" => [2.6514, 0.6012, 0.4530, 437.95, 2.1325, 0.5979, 0.6552],
        "400m" => [2.3747, 0.6542, 0.4288, 523.42, 2.0246, 0.5935, 0.6347],
        _ => throw new ArgumentException(size),
    };

    /// <summary>
    /// The reference fitting procedure re-run on this machine in SciPy 1.10 + PyTorch 1.13 from its
    /// documented steps (bench/mpl_reference_fit.sh, 2026-11-23; about 47 s per size), fitted on
    /// <see cref="FitSplit"/>: [L0, A, alpha, B, C, beta, gamma]. It differs from the published values
    /// by up to 4e-4 relative (alpha), so the published ones came from a slightly different run.
    /// </summary>
    public static double[] ReferenceRerun(string size) => size switch
    {
        "25m" => [3.040372801420937, 0.5247249018620931, 0.5077068631262961, 363.7971389481479, 2.0655946847012427, 0.5827913683222091, 0.6414186288140997],
        "100m" => [2.6513246702306694, 0.6012283272942555, 0.45279369413825105, 437.95635165146285, 2.1324223392531607, 0.5978473858941726, 0.6552294109129505],
        "400m" => [2.3745549374478614, 0.6542012290688566, 0.42864381244022925, 523.4313838692914, 2.0245731598694436, 0.5935015898799639, 0.6347163340717663],
        _ => throw new ArgumentException(size),
    };

    /// <summary>Published metrics R^2, MAE, RMSE, PredE, WorstE on the six held-out curves (../shared/docs/laws.md).</summary>
    public static double[] PublishedMetrics(string size) => size switch
    {
        "25m" => [0.9988, 0.00376, 0.00465, 0.00110, 0.00409],
        "100m" => [0.9983, 0.00435, 0.00592, 0.00142, 0.00583],
        "400m" => [0.9978, 0.00484, 0.00730, 0.00168, 0.00995],
        _ => throw new ArgumentException(size),
    };
}
