using System.Text.Json.Nodes;
using Anneal.Tuning;

namespace Anneal.Tests.Tuning;

/// <summary>
/// Decision-by-decision parity with Optuna 3.1's median, successive-halving and Hyperband pruners on real engine curves
/// (gpt-tiny training loss), three trials reporting in round robin. The vector is tests/Anneal.Tests/Data/tuning/
/// optuna-pruners.json, made by bench/tuning/optuna_pruner_vectors.py with Debian's python3-optuna 3.1.
/// </summary>
public class PrunerParityTests
{
    private static JsonNode Vector() => JsonNode.Parse(File.ReadAllText(TestPaths.TestData("tuning", "optuna-pruners.json")))!;

    public static TheoryData<int> Configs() => new(Enumerable.Range(0, 6));

    private static IPruner Make(string name, JsonObject o)
    {
        long? L(string k) => o[k] is { } v ? v.GetValue<long>() : null;
        int? I(string k) => o[k] is { } v ? v.GetValue<int>() : null;
        return name switch
        {
            "median" => new MedianPruner(I("startup_trials") ?? 5, L("warmup_steps") ?? 0, L("interval_steps") ?? 1),
            "asha" => new SuccessiveHalvingPruner(L("min_resource"), I("reduction_factor") ?? 4, I("min_early_stopping_rate") ?? 0),
            "hyperband" => new HyperbandPruner(L("min_resource") ?? 1, L("max_resource"), I("reduction_factor") ?? 3),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Decisions_match_optuna(int config)
    {
        var v = Vector();
        string study = v["study_name"]!.GetValue<string>();
        var c = v["configs"]![config]!;
        var pruner = Make(c["pruner"]!.GetValue<string>(), c["options"]!.AsObject());
        var trials = new Dictionary<int, TrialRecord>();
        int decisions = 0, prunes = 0;
        foreach (var e in c["events"]!.AsArray())
        {
            int n = e!["trial"]!.GetValue<int>();
            if (e["complete"] is { } done)
            {
                trials[n] = trials[n] with { State = TrialState.Complete, Value = done.GetValue<double>() };
                continue;
            }
            var t = trials.TryGetValue(n, out var existing) ? existing : new TrialRecord(n, new TrialParams([]), TrialState.Running, null, []);
            t = t with { Reports = [.. t.Reports, new Report(e["step"]!.GetValue<long>(), e["value"]!.GetValue<double>())] };
            trials[n] = t;
            var all = trials.Values.OrderBy(x => x.Number).ToList();
            var d = pruner.Decide(study, t, all);
            if (d.SetAttributes is { } set)
            {
                var attrs = new Dictionary<string, double>(t.Attributes);
                foreach (var kv in set) attrs[kv.Key] = kv.Value;
                trials[n] = t = t with { Attributes = attrs };
            }
            bool expected = e["prune"]!.GetValue<bool>();
            d.Prune.ShouldBe(expected, $"trial {n} ({e["curve"]}) at step {e["step"]}: {d.Reason}");
            decisions++;
            if (expected) { prunes++; trials[n] = t with { State = TrialState.Pruned }; }
        }
        decisions.ShouldBeGreaterThan(90);
        prunes.ShouldBeGreaterThan(20); // the vector exercises pruning, not only continuing
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        // The CRC-32 check value of "123456789" (zlib, Python binascii.crc32): 0xCBF43926.
        Crc32.Compute("123456789"u8).ShouldBe(0xCBF43926u);
    }
}
