using Anneal.Schedules;
using FsCheck.Xunit;

namespace Anneal.Tests.Schedules;

/// <summary>FsCheck properties over random parameters of every schedule kind.</summary>
public class SchedulePropertyTests
{
    private static string KindOf(byte k) => RandomSchedules.Kinds[k % RandomSchedules.Kinds.Length];

    [Fact]
    public void EveryRegisteredKindHasAGenerator()
    {
        var r = new Random(1);
        foreach (var k in RandomSchedules.Kinds) Schedule.Parse(RandomSchedules.Make(k, r).Spec).ShouldNotBeNull();
    }

    [Property(MaxTest = 300)] // the canonical spec and the JSON form parse back to an equal schedule (closed form: identity)
    public bool SpecAndJsonRoundTrip(byte kind, int seed)
    {
        var (spec, _, _, _) = RandomSchedules.Make(KindOf(kind), new Random(seed));
        var s = Schedule.Parse(spec);
        var again = Schedule.Parse(s.Spec);
        var fromJson = Schedule.FromJson(s.ToJson());
        return again.Equals(s) && fromJson.Equals(s) && again.Spec == s.Spec && again.GetHashCode() == s.GetHashCode();
    }

    [Property(MaxTest = 200)] // Fill over any range agrees with At step by step (range fills may round differently, e.g. a cumulative product)
    public bool FillEqualsAt(byte kind, int seed, ushort offset, ushort length)
    {
        var (spec, peak, _, total) = RandomSchedules.Make(KindOf(kind), new Random(seed));
        var s = Schedule.Parse(spec);
        long start = offset % (total + 20);
        var buf = new double[length % 4000];
        s.Fill(buf, start);
        double scale = Math.Max(Math.Abs(peak), 1e-300);
        for (int i = 0; i < buf.Length; i++)
        {
            double a = s.At(start + i);
            if (!(Math.Abs(buf[i] - a) <= 1e-12 * Math.Abs(a) + 1e-14 * scale)) throw new Exception($"{spec}: Fill[{start + i}] = {buf[i]:R} but At = {a:R}");
        }
        return true;
    }

    private static readonly string[] Bounded =
        ["constant", "cosine", "linear", "wsd", "join", "step", "multistep", "exponential", "polynomial", "cosine_restarts", "cyclic", "onecycle",
         "inverse_sqrt", "tanh", "piecewise_constant", "rex", "cosine_power", "infinite", "d2z", "power", "refined", "warmup", "product", "scale"];

    [Property(MaxTest = 300)] // every value lies in [min, peak] (the schedule's own extremes)
    public bool ValuesWithinMinAndPeak(byte kind, int seed)
    {
        string k = Bounded[kind % Bounded.Length];
        var (spec, peak, min, total) = RandomSchedules.Make(k, new Random(seed));
        var s = Schedule.Parse(spec);
        double slack = 1e-12 * peak;
        bool warmFromZero = k is not ("step" or "multistep" or "exponential" or "cyclic" or "onecycle" or "piecewise_constant" or "warmup" or "refined");
        double lo = warmFromZero ? Math.Min(0, min) : min;
        if (k == "linear" && spec.Contains("start_factor")) lo = 0;
        var vs = s.Sample((int)total + 10);
        for (int t = 0; t < vs.Length; t++)
            if (!(vs[t] >= lo - slack && vs[t] <= peak + slack)) throw new Exception($"{spec}: value {vs[t]:R} at step {t} outside [{lo:R}, {peak:R}]");
        return true;
    }

    private static readonly string[] Decreasing =
        ["cosine", "wsd", "rex", "polynomial", "cosine_power", "d2z", "exponential", "tanh", "step", "multistep", "inverse_sqrt", "infinite", "power", "scale"];

    [Property(MaxTest = 300)] // non-increasing after the warmup wherever the formula is a decay
    public bool NonIncreasingAfterWarmup(byte kind, int seed)
    {
        string k = Decreasing[kind % Decreasing.Length];
        var (spec, peak, _, total) = RandomSchedules.Make(k, new Random(seed));
        if (k == "wsd") spec = spec.Replace("convention=kozistr", "convention=standard");
        spec = System.Text.RegularExpressions.Regex.Replace(spec, @", cycles=[^,)]+", ""); // HF num_cycles > 0.5 rises again by design
        var s = Schedule.Parse(spec);
        long w = System.Text.RegularExpressions.Regex.Match(spec, @"warmup=(\d+)") is { Success: true } m ? long.Parse(m.Groups[1].Value) : 0;
        var v = s.Sample((int)total + 10);
        for (long t = w + 1; t < v.Length; t++)
            if (v[t] > v[t - 1] + 1e-14 * peak) throw new Exception($"{spec}: rises from {v[t - 1]:R} to {v[t]:R} at step {t}");
        return true;
    }

    [Property(MaxTest = 200)] // no jump at a phase boundary larger than the steps next to it (warmup end, WSD decay start, infinite phases, warmup prefix)
    public bool ContinuousAtPhaseBoundaries(int seed, byte which)
    {
        var r = new Random(seed);
        string[] kinds = ["wsd", "cosine", "linear", "rex", "polynomial", "cosine_power", "infinite", "warmup", "d2z"];
        string k = kinds[which % kinds.Length];
        var (spec, peak, _, total) = RandomSchedules.Make(k, r);
        // geometric (exponential) warmups grow their steps by design; the check is for the shapes whose steps do not grow into the boundary
        spec = spec.Replace("shape=exponential", "shape=linear").Replace("shape=inverse", "shape=cosine").Replace(", prefix=false", "");
        spec = System.Text.RegularExpressions.Regex.Replace(spec, @", cycles=[^,)]+", "");
        var s = Schedule.Parse(spec);
        var v = s.Sample((int)total + 3);
        var bounds = new List<long>();
        switch (s)
        {
            case WsdSchedule w:
                long shift = w.Convention == WsdConvention.Kozistr ? 1 : 0;
                bounds.Add(w.Warmup - shift); bounds.Add(w.DecayStart - shift);
                break;
            case InfiniteSchedule inf: bounds.AddRange([inf.Warmup, inf.Warmup + inf.Cooldown, inf.Total!.Value - inf.Anneal]); break;
            case WarmupSchedule ws: bounds.Add(ws.Steps); break;
            default:
                var mw = System.Text.RegularExpressions.Regex.Match(spec, @"warmup=(\d+)");
                if (mw.Success) bounds.Add(long.Parse(mw.Groups[1].Value));
                break;
        }
        foreach (long b in bounds)
        {
            if (b < 3 || b >= v.Length - 3) continue;
            double jump = Math.Abs(v[b] - v[b - 1]);
            double neighbours = 0;
            for (long i = Math.Max(1, b - 2); i <= Math.Min(v.Length - 1, b + 2); i++)
                if (i != b) neighbours = Math.Max(neighbours, Math.Abs(v[i] - v[i - 1]));
            if (jump > neighbours * (1 + 1e-9) + 1e-13 * peak) throw new Exception($"{spec}: jump {jump:R} at boundary {b} exceeds neighbouring steps {neighbours:R}");
        }
        return true;
    }
}
