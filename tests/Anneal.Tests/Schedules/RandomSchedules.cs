using System.Globalization;
using Anneal.Schedules;

namespace Anneal.Tests.Schedules;

/// <summary>Random valid specs of every schedule kind, driven by a seed FsCheck chooses.</summary>
internal static class RandomSchedules
{
    public static readonly string[] Kinds = ScheduleRegistry.Kinds.Select(k => k.Name).ToArray();

    private static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A random spec of <paramref name="kind"/> with its peak, min and length.</summary>
    public static (string Spec, double Peak, double Min, long Total) Make(string kind, Random r)
    {
        double peak = Math.Round(1e-4 + r.NextDouble() * 0.01, 6);
        long total = r.Next(8, 3000);
        long warm = r.Next(0, (int)(total / 2));
        double min = Math.Round(peak * r.NextDouble() * 0.5, 8);
        string W = warm > 0 ? $", warmup={warm}" : "";
        switch (kind)
        {
            case "constant": return ($"constant(peak={F(peak)}{W})", peak, peak, total);
            case "cosine": return ($"cosine(peak={F(peak)}, total={total}{W}, min={F(min)}, exponent={F(0.5 + r.Next(0, 4) * 0.5)}{(r.Next(4) == 0 ? $", cycles={F(0.25 + r.Next(0, 8) * 0.25)}" : "")})", peak, min, total);
            case "linear":
                return r.Next(2) == 0
                    ? ($"linear(peak={F(peak)}, total={total}{W}, min={F(min)})", peak, min, total)
                    : ($"linear(peak={F(peak)}, total={total}, start_factor={F(Math.Round(r.NextDouble(), 3))}, end_factor={F(Math.Round(r.NextDouble(), 3))})", peak, 0, total);
            case "wsd":
            {
                string[] shapes = ["linear", "cosine", "sqrt", "square", "exponential", "inverse"];
                string shape = shapes[r.Next(shapes.Length)];
                if (min == 0) min = peak * 0.01;
                string[] convs = ["standard", "hf", "kozistr"];
                string conv = convs[r.Next(3)];
                string dec = r.Next(2) == 0 ? $"decay_steps={r.Next(0, (int)(total - warm) + 1)}" : $"decay={F(Math.Round(r.NextDouble() * (total - warm) / total, 3))}";
                string mins = r.Next(2) == 0 ? $"min={F(min)}" : $"min_ratio={F(Math.Round(min / peak, 4))}";
                if (mins.StartsWith("min_ratio")) min = Math.Round(min / peak, 4) * peak;
                return ($"wsd(peak={F(peak)}, total={total}{W}, {dec}, shape={shape}, {mins}, convention={conv}, warmup_shape={(r.Next(2) == 0 ? "linear" : "cosine")})", peak, min, total);
            }
            case "join": return ($"join(cosine(peak={F(peak)}, total={total}{W}), constant(peak={F(min)}), at=[{total}])", peak, min, total);
            case "step": return ($"step(peak={F(peak)}, every={r.Next(1, 200)}, gamma={F(Math.Round(r.NextDouble(), 3))})", peak, 0, total);
            case "multistep":
            {
                var ms = Enumerable.Range(0, r.Next(1, 5)).Select(_ => r.Next(1, (int)total)).Distinct().Order().ToArray();
                return ($"multistep(peak={F(peak)}, milestones=[{string.Join(", ", ms)}], gamma={F(Math.Round(r.NextDouble(), 3))}{(r.Next(2) == 0 ? ", convention=timm" : "")})", peak, 0, total);
            }
            case "exponential":
            {
                double g = Math.Round(0.5 + r.NextDouble() * 0.5, 4);
                return ($"exponential(peak={F(peak)}, gamma={F(g)}, every={r.Next(1, 100)}, begin={r.Next(0, 50)}{(r.Next(2) == 0 ? ", staircase=true" : "")}, end={F(min)})", peak, min, total);
            }
            case "polynomial": return ($"polynomial(peak={F(peak)}, total={total}{W}, power={F(Math.Round(0.5 + r.NextDouble() * 3, 3))}, end={F(min)})", peak, min, total);
            case "cosine_restarts":
                return r.Next(2) == 0
                    ? ($"cosine_restarts(peak={F(peak)}, cycle={r.Next(2, 300)}, mult={r.Next(1, 3)}, decay={F(Math.Round(0.5 + r.NextDouble() * 0.5, 3))}, min={F(min)}{W})", peak, min, total)
                    : ($"cosine_restarts(peak={F(peak)}, total={total}{W}, cycles={r.Next(1, 5)})", peak, 0, total);
            case "cyclic":
            {
                string[] modes = ["triangular", "triangular2", "exp_range"];
                return ($"cyclic(base={F(min)}, max={F(peak)}, up={r.Next(1, 100)}, down={r.Next(1, 100)}, mode={modes[r.Next(3)]}, gamma={F(Math.Round(0.99 + r.NextDouble() * 0.01, 5))})", peak, min, total);
            }
            case "onecycle":
            {
                bool optax = r.Next(2) == 0, three = r.Next(2) == 0;
                long T = Math.Max(total, 50);
                double div = r.Next(2, 30), fdiv = r.Next(2, 1000);
                string extra = optax && three ? ", pct_final=0.8" : "";
                return ($"onecycle(peak={F(peak)}, total={T}, pct={F(Math.Round(0.1 + r.NextDouble() * 0.3, 3))}, div={F(div)}, final_div={F(fdiv)}, anneal={(r.Next(2) == 0 ? "cos" : "linear")}, three_phase={(three ? "true" : "false")}, convention={(optax ? "optax" : "pytorch")}{extra})",
                    peak, peak / div / fdiv, T);
            }
            case "inverse_sqrt": return ($"inverse_sqrt(peak={F(peak)}{W}, timescale={r.Next(1, 5000)})", peak, 0, total);
            case "tanh": return ($"tanh(peak={F(peak)}, total={total}{W}, min={F(min)})", peak, min, total);
            case "piecewise_constant": return ($"piecewise_constant(init={F(peak)}, at=[{total / 3}, {total / 2 + 1}], scales=[0.5, 0.1])", peak, peak * 0.05, total);
            case "piecewise": return ($"piecewise(init={F(min)}, at=[{total / 3 + 1}, {total}], scales=[{F(peak / Math.Max(min, 1e-9))}, 0.01], interpolate={(r.Next(2) == 0 ? "cosine" : "linear")})", Math.Max(peak, min), 0, total);
            case "rex": return ($"rex(peak={F(peak)}, total={total}{W}, min={F(min)})", peak, min, total);
            case "cosine_power": return ($"cosine_power(peak={F(peak)}, total={total}{W}, min={F(min)}, base={F(Math.Round(1 + r.NextDouble() * 20, 3))})", peak, min, total);
            case "infinite":
            {
                int room = (int)(total - warm) / 2;
                long c = r.Next(Math.Min(10, room), room + 1);
                long a = r.Next(1, (int)(total - warm - c) + 1);
                double k = Math.Round(peak * (0.2 + 0.5 * r.NextDouble()), 8);
                double m = Math.Round(k * (0.05 + 0.5 * r.NextDouble()), 9);
                return ($"infinite(peak={F(peak)}{W}, cooldown={c}, constant={F(k)}, total={total}, anneal={a}, min={F(m)})", peak, m, total);
            }
            case "d2z": return ($"d2z(peak={F(peak)}, total={total}{W})", peak, 0, total);
            case "power":
            {
                long d = r.Next(0, (int)(total - warm) + 1);
                return ($"power(peak={F(peak)}, a={F(Math.Round(0.5 + r.NextDouble() * 5, 3))}, exponent={F(-Math.Round(0.2 + r.NextDouble() * 0.5, 3))}, tokens_per_step={r.Next(1000, 100000)}, total={total}{W}, decay_steps={d})", peak, 0, total);
            }
            case "refined":
            {
                int n = r.Next(2, 60);
                var norms = Enumerable.Range(0, n).Select(_ => Math.Round(0.1 + r.NextDouble() * 3, 4));
                return ($"refined(peak={F(peak)}, norms=[{string.Join(", ", norms.Select(F))}], weighting={(r.Next(2) == 0 ? "sgd" : "adam")})", peak, 0, n);
            }
            case "warmup":
            {
                string[] shapes = ["linear", "cosine", "exponential"];
                string sh = shapes[r.Next(3)];
                double start = sh == "exponential" ? Math.Round(peak * 0.01, 9) : 0;
                long ws = r.Next(1, 200);
                return ($"warmup(cosine(peak={F(peak)}, total={total}, min={F(min)}), steps={ws}, shape={sh}, start={F(start)}{(r.Next(3) == 0 ? ", prefix=false" : "")})", peak, Math.Min(min, start), total + ws);
            }
            case "product": return ($"product(cosine(peak={F(peak)}, total={total}{W}, min={F(min)}), cyclic(base=0.5, max=1, up={r.Next(1, 50)}))", peak, min * 0.5, total);
            case "scale":
            {
                double by = Math.Round(r.NextDouble() * 2, 4);
                return ($"scale(linear(peak={F(peak)}, total={total}{W}, min={F(min)}), by={F(by)})", peak * by, min * by, total);
            }
            default: throw new ArgumentException("no generator for schedule kind " + kind + ": add one to RandomSchedules");
        }
    }
}
