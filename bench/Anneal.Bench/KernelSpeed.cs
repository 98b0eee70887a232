using System.Diagnostics;
using System.Globalization;
using Anneal.Evaluation;
using Anneal.Laws;

namespace Anneal.Bench;

/// <summary>
/// The multi-power law's loss-drop kernel alone (<see cref="MplKernel"/>, through <c>MultiPowerLaw.State.Evaluate</c> with its
/// Jacobian), on the published 400M split's three fitted runs as the default fit's reference member prepares them, on one
/// thread: CPU ns per (point, rate change) pair, and a checksum of the bits of every loss and Jacobian entry (equal
/// checksums: the same bits). Run: <c>dotnet run -c Release --project bench/Anneal.Bench -- kernel-speed [repo] [rounds]</c>.
/// </summary>
internal static class KernelSpeed
{
    public static void Run(string repo, int rounds)
    {
        var bench = MplBenchmark.FromFolder(Path.Combine(repo, "data/examples/mpl"));
        var runs = bench.Runs("400m", bench.FitSplit);
        var law = LossLaw.Parse("mpl(warmup=reference, drops=continuous)");
        var states = runs.Select(law.Prepare).ToArray();
        long pairs = states.Sum(s => ((MultiPowerLaw.State)s).Pairs);
        // Parameters near the reference procedure's path on this split (its start and a later point).
        double[][] ps = [[2.5, 0.5, 0.5, 400, 1, 0.5, 0.5], [2.4, 0.55, 0.45, 500, 2.0, 0.6, 0.55]];
        using var _ = EvaluationParallelism.Sequential();
        ulong sum = 0;
        var best = double.PositiveInfinity;
        for (int r = 0; r < rounds + 2; r++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            const int reps = 10;
            for (int rep = 0; rep < reps; rep++)
                foreach (var p in ps)
                    foreach (var s in states)
                    {
                        var loss = new double[s.Run.Count];
                        var jac = new double[s.Run.Count * 7];
                        s.Evaluate(p, loss, jac);
                        if (r == 0 && rep == 0)
                            foreach (var v in loss.Concat(jac)) sum = unchecked(sum * 1000003 + (ulong)BitConverter.DoubleToInt64Bits(v));
                    }
            double ns = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1e6 / (reps * ps.Length * pairs);
            if (r >= 2) best = Math.Min(best, ns);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{pairs} pairs per evaluation; best of {rounds}: {best:0.000} ns CPU per pair; checksum {sum:x16}"));
    }
}
