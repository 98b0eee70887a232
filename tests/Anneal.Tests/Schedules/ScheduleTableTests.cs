using System.Globalization;
using System.Text.Json.Nodes;
using Anneal.Schedules;

namespace Anneal.Tests.Schedules;

/// <summary>
/// The streamed schedule table (issue 12, defect 3) against the whole-array forms it replaced: a
/// <see cref="JsonObject"/> tree serialised by System.Text.Json and per-step <c>ToString("R")</c> lines.
/// </summary>
public class ScheduleTableTests
{
    // lengths around the block size (65,536) so the block edges are crossed
    [Theory]
    [InlineData("cosine(peak=3e-4, total=70000, warmup=100, min=3e-5)", 70000)]
    [InlineData("wsd(peak=3e-4, total=131072, warmup=2160, decay=0.2, shape=sqrt)", 131073)]
    [InlineData("warmup(cosine(peak=1.21, total=50, min=-3, exponent=2), steps=50, start=0.2)", 101)]
    [InlineData("constant(peak=1e-3)", 1)]
    public void The_streamed_json_equals_the_json_of_the_whole_array(string spec, int n)
    {
        var s = Schedule.Parse(spec);
        var lr = s.Sample(n);
        var tree = new JsonObject { ["format"] = "anneal-schedule-sample/1", ["schedule"] = s.ToSpecCall().ToJson(), ["spec"] = s.Spec, ["steps"] = n, ["lr"] = new JsonArray(lr.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray()) };
        var w = new StringWriter();
        ScheduleTable.WriteJson(s, n, w);
        w.ToString().ShouldBe(tree.ToJsonString() + w.NewLine);
    }

    // The cosine fills are scalar Math.Cos per step, so a range filled in blocks of any size, early or late in the
    // process (tier-0 or optimised code), holds the same bits as the whole array and as At step by step (the closed
    // form evaluated one step at a time). Block sizes straddle the vector widths (2, 4, 8 doubles) and a prime.
    [Theory]
    [InlineData("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)")]
    [InlineData("cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5, exponent=2)")]
    [InlineData("wsd(peak=3e-4, total=24000, warmup=2160, decay=0.3, shape=cosine, min=3e-6)")]
    [InlineData("wsd(peak=3e-4, total=24000, warmup=2160, decay=0.3, shape=sqrt)")]
    public void Cosine_fills_hold_the_same_bits_in_blocks_of_any_size_as_the_closed_form(string spec)
    {
        var s = Schedule.Parse(spec);
        const int n = 24100;
        var whole = s.Sample(n);
        FirstDifference(whole, Enumerable.Range(0, n).Select(t => s.At(t)).ToArray()).ShouldBe(-1, "Fill against At");
        foreach (int block in new[] { 1, 3, 7, 8, 9, 16, 4099 })
        {
            var parts = new double[n];
            for (int at = 0; at < n; at += block) s.Fill(parts.AsSpan(at, Math.Min(block, n - at)), at);
            FirstDifference(parts, whole).ShouldBe(-1, $"blocks of {block}");
        }
    }

    /// <summary>The first index where the two arrays hold different bits; -1 when none.</summary>
    private static int FirstDifference(double[] a, double[] b)
    {
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.DoubleToInt64Bits(a[i]) != BitConverter.DoubleToInt64Bits(b[i])) return i;
        return -1;
    }

    [Theory]
    [InlineData("cosine(peak=3e-4, total=70000, warmup=100, min=3e-5)", 70000)]
    [InlineData("linear(peak=10, total=10, warmup=2)", 10)]
    public void The_streamed_csv_equals_per_step_round_trip_lines(string spec, int n)
    {
        var s = Schedule.Parse(spec);
        var lr = s.Sample(n);   // the rates the command printed before it streamed (Fill over the whole range)
        var expected = new StringWriter();
        expected.WriteLine("step,lr");
        for (int i = 0; i < n; i++) expected.WriteLine($"{i},{lr[i].ToString("R", CultureInfo.InvariantCulture)}");
        var w = new StringWriter();
        long reported = 0;
        ScheduleTable.WriteCsv(s, n, w, done => { done.ShouldBeGreaterThan(reported); reported = done; });
        w.ToString().ShouldBe(expected.ToString());
        reported.ShouldBe(n);
    }

    [Theory] // export's multipliers table against the JsonObject tree export built before it streamed
    [InlineData(70000)]
    [InlineData(7)]
    public void The_streamed_multipliers_equal_the_json_of_the_whole_array(int n)
    {
        var s = Schedule.Parse("wsd(peak=3e-4, total=70000, warmup=2160, decay=0.2, shape=sqrt)");
        var lr = s.Sample(n);
        double peak = lr.Max();
        var tree = new JsonObject
        {
            ["format"] = "anneal-multipliers/1", ["source"] = s.Spec, ["peak_lr"] = peak, ["steps"] = (long)n,
            ["note"] = "lr(step) = peak_lr * multipliers[min(step, steps - 1)]",
            ["multipliers"] = new JsonArray(lr.Select(x => (JsonNode)(x / peak)).ToArray()),
        };
        var w = new StringWriter();
        ScheduleTable.WriteMultipliersJson(ScheduleTable.FromArray(lr), n, s.Spec, w).ShouldBe(peak);
        w.ToString().ShouldBe(tree.ToJsonString() + w.NewLine);
        var fromSpec = new StringWriter();
        ScheduleTable.WriteMultipliersJson(s.Fill, n, s.Spec, fromSpec);
        fromSpec.ToString().ShouldBe(w.ToString());
        Should.Throw<InputException>(() => ScheduleTable.WriteMultipliersJson(ScheduleTable.FromArray(new double[3]), 3, "zeros.csv", TextWriter.Null)).Message.ShouldContain("zeros.csv");
    }

    [Fact]
    public void Steps_outside_one_to_the_maximum_are_bad_input()
    {
        var s = Schedule.Parse("constant(peak=1e-3)");
        Should.Throw<InputException>(() => ScheduleTable.WriteCsv(s, 0, TextWriter.Null)).Message.ShouldContain("between 1 and 100000000");
        Should.Throw<InputException>(() => ScheduleTable.WriteJson(s, ScheduleTable.MaxSteps + 1, TextWriter.Null)).Message.ShouldContain("100000001");
    }
}
