using Anneal.Schedules;
using Anneal.Specs;

namespace Anneal.Tests.Schedules;

/// <summary>Closed forms, conventions, composition and error messages of the schedule library.</summary>
public class ScheduleBehaviourTests
{
    private static void Near(double actual, double expected, double rel = 1e-12, string? what = null) =>
        Math.Abs(actual - expected).ShouldBeLessThanOrEqualTo(rel * Math.Abs(expected) + 1e-300, what ?? $"expected {expected:R}, got {actual:R}");

    // ---------------- registry ----------------

    [Fact] // every kind's documented example is a working spec whose canonical form and JSON round-trip
    public void EveryRegisteredExampleParsesAndRoundTrips()
    {
        foreach (var k in ScheduleRegistry.Kinds)
        {
            var s = Schedule.Parse(k.Example);
            s.ToSpecCall().Name.ShouldBe(k.Name, k.Example);
            Schedule.Parse(s.Spec).ShouldBe(s, k.Example);
            Schedule.FromJson(s.ToJson()).ShouldBe(s, k.Example);
            s.Sample(50).ShouldAllBe(v => double.IsFinite(v), k.Example);
        }
        var p = ReduceOnPlateauOptions.Parse(ScheduleRegistry.Plateau.Example);
        ReduceOnPlateauOptions.Parse(p.Spec).ShouldBe(p);
    }

    [Fact]
    public void KindNamesAreUniqueSnakeCase() =>
        ScheduleRegistry.Kinds.Select(k => k.Name).ShouldAllBe(n => System.Text.RegularExpressions.Regex.IsMatch(n, "^[a-z][a-z0-9_]*$"));

    // ---------------- bad specs ----------------

    [Theory]
    [InlineData("cosinus(peak=1, total=10)", "unknown schedule 'cosinus': did you mean 'cosine'")]
    [InlineData("sawtooth(peak=1)", "unknown schedule 'sawtooth': run 'anneal schedule list'")]
    [InlineData("cosine(peak=1, total=10, warmpu=3)", "unknown parameter 'warmpu'")]
    [InlineData("cosine(peak=1, total=10, warmup=20)", "warmup (20) cannot exceed total (10)")]
    [InlineData("linear(peak=-1, total=10)", "peak must be a finite number >= 0")]
    [InlineData("wsd(peak=1, total=100, shape=exponential)", "shape=exponential needs min > 0")]
    [InlineData("wsd(peak=1, total=100, decay=0.2, decay_steps=20)", "either decay=F")]
    [InlineData("multistep(peak=1, milestones=[5, 3])", "strictly increasing")]
    [InlineData("join(constant(peak=1), constant(peak=2), at=[])", "needs 1 boundaries")]
    [InlineData("warmup(cosine(peak=1, total=10), steps=0)", "steps must be > 0")]
    [InlineData("cosine_restarts(peak=1, cycle=10, cycles=2, total=30)", "exactly one of cycle")]
    [InlineData("onecycle(peak=1, total=3)", "a phase would be empty")]
    [InlineData("refined(peak=1, norms=[1, 0, 1])", "gradient norm #2 must be finite and > 0")]
    [InlineData("plateau(peak=1)", "stateful controller")]
    [InlineData("cosine(peak=1, total=10, min=2)", "min must be a finite number <= peak")]
    [InlineData("power(peak=1, a=1, exponent=0.5, tokens_per_step=10)", "exponent must be <= 0")]
    public void BadSpecsGiveAClearSpecException(string spec, string message)
    {
        var e = Should.Throw<SpecException>(() => Schedule.Parse(spec));
        e.Message.ShouldContain(message, Case.Insensitive);
        (e is InputException).ShouldBeTrue();
    }

    [Fact]
    public void RefinedFileErrorsNameFileAndLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"anneal-norms-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "step,grad_norm\n0,1.5\n1,oops\n");
        try
        {
            var e = Should.Throw<SpecException>(() => Schedule.Parse($"refined(peak=1, file=\"{path}\")"));
            e.Message.ShouldContain($"{path}:3");
            e.Message.ShouldContain("'oops' is not a number");
        }
        finally { File.Delete(path); }
    }

    // ---------------- closed forms and conventions ----------------

    [Fact] // PyTorch CosineAnnealingWarmRestarts(T_0=10, T_mult=2): restarts at 10 and 30, T_cur/T_i from its closed form
    public void CosineRestarts_PyTorchMult2()
    {
        var s = Schedule.Parse("cosine_restarts(peak=1, cycle=10, mult=2, min=0.1)");
        double F(double cur, double len) => 0.1 + 0.9 * (1 + Math.Cos(Math.PI * cur / len)) / 2;
        Near(s.At(0), 1); Near(s.At(5), F(5, 10)); Near(s.At(10), 1); Near(s.At(25), F(15, 20)); Near(s.At(30), 1); Near(s.At(69), F(39, 40));
    }

    [Theory] // SGDR cycle bookkeeping: the closed form agrees with walking the cycles one by one, and stays fast for mult near 1
    [InlineData(7, 1.5)]
    [InlineData(10, 2)]
    [InlineData(3, 3)]
    [InlineData(2.5, 1.1)]
    public void CosineRestarts_ClosedFormMatchesCycleWalk(double t0, double mult)
    {
        var s = new CosineRestartsSchedule(1, t0, mult, 0.9, 0.01);
        for (long t = 0; t < 2000; t++)
        {
            double cur = t, len = t0;
            int i = 0;
            while (cur >= len) { cur -= len; len *= mult; i++; }
            double expected = 0.01 + (Math.Pow(0.9, i) - 0.01) * (1 + Math.Cos(Math.PI * cur / len)) / 2;
            Near(s.At(t), expected, 1e-9, $"t={t}");
        }
        double.IsFinite(new CosineRestartsSchedule(1, 1, 1.0000001).At(1_000_000_000)).ShouldBeTrue();
    }

    [Fact] // timm cycle_decay / SGDR peak decay: cycle i peaks at P * decay^i
    public void CosineRestarts_Decay() => Near(Schedule.Parse("cosine_restarts(peak=1, cycle=10, decay=0.5)").At(20), 0.25);

    [Fact] // optax exponential_decay with transition_begin, staircase and end_value, from its definition
    public void Exponential_OptaxOptions()
    {
        var s = Schedule.Parse("exponential(peak=1, gamma=0.5, every=2, staircase=true, end=0.2)");
        s.Sample(8).ShouldBe([1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]);
        var b = Schedule.Parse("exponential(peak=1, gamma=0.5, begin=3)");
        b.Sample(6).ShouldBe([1, 1, 1, 1, 0.5, 0.25]);
    }

    [Fact] // timm TanhLRScheduler formula at p = 0.5: m + (P - m)/2 (1 - tanh(-7/2 + 3/2))
    public void Tanh_ClosedForm()
    {
        var s = Schedule.Parse("tanh(peak=1, total=110, warmup=10, min=0.1)");
        Near(s.At(60), 0.1 + 0.45 * (1 - Math.Tanh(-2)));
        s.At(110).ShouldBe(0.1);
        Near(s.At(5), 0.5);
    }

    [Fact] // sharpDARTS cosine power annealing: base -> 1 is the cosine; base 10 at p = 0.5 is (10^1.5 - 10)/90
    public void CosinePower_ClosedForm()
    {
        var one = Schedule.Parse("cosine_power(peak=2, total=100, base=1)").Sample(101);
        var cos = Schedule.Parse("cosine(peak=2, total=100)").Sample(101);
        for (int t = 0; t <= 100; t++) Near(one[t], cos[t], 1e-12, $"t={t}");
        Near(Schedule.Parse("cosine_power(peak=1, total=100)").At(50), (Math.Pow(10, 1.5) - 10) / 90);
        var nearOne = Schedule.Parse("cosine_power(peak=2, total=100, base=1.000001)").At(30);
        Math.Abs(nearOne - cos[30]).ShouldBeLessThan(1e-5);
    }

    [Fact] // Ibrahim et al. infinite schedule: phase values from the definition
    public void Infinite_Phases()
    {
        var s = Schedule.Parse("infinite(peak=1, warmup=10, cooldown=20, constant=0.4, total=100, anneal=10, min=0.004)");
        Near(s.At(5), 0.5); Near(s.At(10), 1); Near(s.At(20), 0.7); Near(s.At(30), 0.4); Near(s.At(89), 0.4);
        Near(s.At(95), 0.4 * Math.Pow(0.01, 0.5)); s.At(100).ShouldBe(0.004);
    }

    [Fact] // IBM power scheduler: min(P, beta a n^b) with n = t K tokens; warmup to eta(W); linear final decay from eta(T-D)
    public void Power_ClosedForm()
    {
        var s = Schedule.Parse("power(peak=0.02, a=4.6, exponent=-0.51, tokens_per_step=1000000, batch=2, warmup=100, total=10000, decay_steps=1000)");
        double E(long t) => Math.Min(0.02, 2 * 4.6 * Math.Pow(t * 1e6, -0.51));
        Near(s.At(50), 0.5 * E(100)); Near(s.At(5000), E(5000)); Near(s.At(9500), 0.5 * E(9000)); s.At(10000).ShouldBe(0);
        Near(Schedule.Parse("power(peak=1e-9, a=4.6, exponent=-0.51, tokens_per_step=1000)").At(7), 1e-9);
    }

    [Fact] // D2Z equals linear decay with min 0 (Bergsma et al.)
    public void D2z_IsLinearToZero()
    {
        var a = Schedule.Parse("d2z(peak=3e-4, total=1000, warmup=100)").Sample(1100);
        var b = Schedule.Parse("linear(peak=3e-4, total=1000, warmup=100)").Sample(1100);
        for (int t = 0; t < a.Length; t++) Near(a[t], b[t], 1e-12, $"t={t}");
    }

    [Fact] // Defazio et al.: eta_t = w_t sum_{p>t} w_p with w = G^-2 (SGD), normalised; hand-computed for G = [1, 2, 4, 1]
    public void Refined_SgdWeightsByHand()
    {
        var s = Schedule.Parse("refined(peak=2, norms=[1, 2, 4, 1])");
        Near(s.At(0), 2); Near(s.At(1), 2 * 0.265625 / 1.3125); Near(s.At(2), 2 * 0.0625 / 1.3125); s.At(3).ShouldBe(0); s.At(7).ShouldBe(0);
        // Adam weighting w = 1/G: eta = [1*(1/2+1/4+1), 1/2*(1/4+1), 1/4*1, 0] = [1.75, 0.625, 0.25, 0]
        var a = Schedule.Parse("refined(peak=1, norms=[1, 2, 4, 1], weighting=adam)");
        Near(a.At(1), 0.625 / 1.75); Near(a.At(2), 0.25 / 1.75);
    }

    [Fact] // Defazio et al.: the median filter (window 2 floor(0.1 T / 2) + 1 = 3 for T = 20) removes a one-step spike, leaving linear decay
    public void Refined_MedianFilterRemovesSpike()
    {
        RefinedSchedule.Window(20).ShouldBe(3);
        RefinedSchedule.Window(100).ShouldBe(11);
        var norms = Enumerable.Repeat(1.0, 20).ToArray();
        norms[7] = 100;
        var s = new RefinedSchedule(1, norms);
        for (int t = 0; t < 20; t++) Near(s.At(t), (19.0 - t) / 19, 1e-12, $"t={t}");
    }

    [Fact] // a norms file (CSV with a grad_norm column) gives the same schedule as the inline list, and its spec round-trips
    public void Refined_FromFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"anneal-norms-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "# run 7\nstep,loss,grad_norm\n0,3.1,1\n1,3.0,2\n2,2.9,4\n3,2.8,1\n");
        try
        {
            var f = Schedule.Parse($"refined(peak=2, file=\"{path}\")");
            var inline = Schedule.Parse("refined(peak=2, norms=[1, 2, 4, 1])");
            f.Sample(5).ShouldBe(inline.Sample(5));
            Schedule.Parse(f.Spec).ShouldBe(f);
        }
        finally { File.Delete(path); }
    }

    [Fact] // warmup prefix shapes: linear t/W, half-cosine (1 - cos(pi t/W))/2, geometric start (target/start)^(t/W); inner shifted by W
    public void Warmup_Shapes()
    {
        var lin = Schedule.Parse("warmup(constant(peak=2), steps=4)");
        lin.Sample(6).ShouldBe([0, 0.5, 1, 1.5, 2, 2]);
        var cos = Schedule.Parse("warmup(constant(peak=2), steps=4, shape=cosine)");
        Near(cos.At(1), 2 * (1 - Math.Cos(Math.PI / 4)) / 2);
        var exp = Schedule.Parse("warmup(constant(peak=1), steps=2, shape=exponential, start=0.01)");
        Near(exp.At(1), 0.1);
        var shifted = Schedule.Parse("warmup(linear(peak=1, total=10), steps=5)");
        Near(shifted.At(10), 0.5);
        shifted.Length.ShouldBe(15);
    }

    [Fact] // timm warmup_prefix=False: the warmup replaces the first W steps of the decay, which keeps its own step count
    public void Warmup_TimmOverlay()
    {
        var s = Schedule.Parse("warmup(cosine(peak=1, total=100), steps=10, start=0.1, prefix=false)");
        var inner = Schedule.Parse("cosine(peak=1, total=100)");
        Near(s.At(5), 0.1 + 0.9 * 0.5);
        Near(s.At(10), inner.At(10)); Near(s.At(60), inner.At(60));
        s.Length.ShouldBe(100);
    }

    [Fact] // HF get_cosine_schedule_with_warmup(num_cycles=1): factor max(0, (1 + cos(2 pi p))/2) goes back up to 1 at p = 1
    public void Cosine_HfNumCycles()
    {
        var s = Schedule.Parse("cosine(peak=10, total=12, warmup=2, cycles=1)");
        Near(s.At(7), 0); Near(s.At(12), 10); Near(s.At(4), 10 * 0.5 * (1 + Math.Cos(2 * Math.PI * 0.2)));
    }

    [Fact] // product multiplies pointwise: PyTorch ChainedScheduler of ConstantLR(factor 0.1, total_iters 2) and ExponentialLR(0.9), closed form 0.1^[t<2] * 0.9^t
    public void Product_ChainedScheduler()
    {
        var s = Schedule.Parse("product(join(constant(peak=0.1), constant(peak=1), at=[2]), exponential(peak=1, gamma=0.9))");
        double[] expected = [0.1, 0.09, 0.81, 0.729, 0.6561];
        var fill = s.Sample(5);
        for (int t = 0; t < 5; t++) { Near(s.At(t), expected[t]); Near(fill[t], expected[t]); }
    }

    [Fact]
    public void Scale_Multiplies() => Near(Schedule.Parse("scale(cosine(peak=1, total=10), by=3e-4)").At(5), 1.5e-4);

    [Fact] // HF get_wsd_schedule with warmup_type=1-sqrt: factor 1 - sqrt(1 - t/W) mapped to f(1 - r) + r
    public void Wsd_HfSqrtWarmup()
    {
        var s = Schedule.Parse("wsd(peak=10, warmup=4, stable=2, decay_steps=4, min_ratio=0.1, warmup_shape=sqrt, convention=hf)");
        Near(s.At(1), 10 * ((1 - Math.Sqrt(0.75)) * 0.9 + 0.1));
        s.Length.ShouldBe(10);
        s.Spec.ShouldBe("wsd(peak=10, total=10, warmup=4, decay_steps=4, min_ratio=0.1, warmup_shape=sqrt, convention=hf)");
    }

    [Theory] // Hägele et al. / Wen et al. cooldown shapes at p = 0.25 of a WSD cooldown from 1 to 0.1
    [InlineData("linear", 0.775)]
    [InlineData("square", 0.94375)]
    [InlineData("sqrt", 0.55)]
    [InlineData("cosine", 0.86819805153394639)]
    [InlineData("exponential", 0.56234132519034907)]
    [InlineData("inverse", 0.30769230769230771)]
    public void Wsd_DecayShapes(string shape, double expected)
    {
        var s = Schedule.Parse($"wsd(peak=1, total=100, decay_steps=40, shape={shape}, min=0.1)");
        Near(s.At(70), expected, 1e-12);
        Near(s.Sample(100)[70], expected, 1e-12);
    }

    [Fact] // The public contract forms keep their names, defaults and semantics
    public void PublicContractForms()
    {
        Near(Schedule.Parse("constant(peak=2, warmup=4)").At(1), 0.5);
        Near(Schedule.Parse("cosine(peak=1, total=110, warmup=10, min=0.1)").At(60), 0.55);
        Near(Schedule.Parse("linear(peak=1, total=110, warmup=10, min=0.1)").At(60), 0.55);
        Near(Schedule.Parse("rex(peak=1, total=110, warmup=10)").At(60), 0.5 / 0.75);
        Near(Schedule.Parse("wsd(peak=1, total=100, warmup=10, decay=0.2)").At(90), 0.5);
        Near(Schedule.Parse("wsd(peak=1, total=100, warmup=10, decay_steps=20, shape=sqrt, min=0.1)").At(85), 0.1 + 0.9 * (1 - Math.Sqrt(0.25)));
        Near(Schedule.Parse("join(constant(peak=1), linear(peak=1, total=10), at=[5])").At(10), 0.5);
        new CosineSchedule(1, 10, 2, 0.1).ShouldBe(Schedule.Parse("cosine(peak=1, total=10, warmup=2, min=0.1)"));
    }

    [Fact] // PyTorch ReduceLROnPlateau rel threshold: 1% better is needed with threshold=0.01
    public void Plateau_RelativeThreshold()
    {
        var p = ReduceOnPlateau.Parse("plateau(peak=1, patience=0, threshold=0.01)");
        p.Step(100).ShouldBe(1);       // first metric is always an improvement
        p.Step(99.5).ShouldBe(0.1);    // 0.5% better is not enough, patience 0 -> reduce
        p.Step(98).ShouldBe(0.1);      // 98 < 100 * 0.99: improvement
        p.Best.ShouldBe(98);
        p.Reset();
        p.Current.ShouldBe(1);
        p.Evaluations.ShouldBe(0);
    }
}

/// <summary>docs/schedules.md stays truthful: every complete spec it shows parses.</summary>
public class ScheduleDocsTests
{
    [Fact]
    public void EverySpecInTheDocsParses()
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "schedules.md"));
        var kinds = ScheduleRegistry.Kinds.Select(k => k.Name).ToHashSet();
        int parsed = 0;
        var failures = new List<string>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"`([a-z_0-9]+\(.*?\))`|^((?:wsd|cosine|join)\(.*\))\s*(?:#.*)?$", System.Text.RegularExpressions.RegexOptions.Multiline))
        {
            var spec = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value.Trim();
            var name = spec[..spec.IndexOf('(')];
            if (!kinds.Contains(name) || spec.Contains("...") || spec.Contains("file=") || System.Text.RegularExpressions.Regex.IsMatch(spec, @"=[A-Z]|[(,]\s*[a-z_]+\s*[,)]")) continue;
            try { Schedule.Parse(spec); parsed++; }
            catch (Anneal.Specs.SpecException e) { failures.Add($"{spec}: {e.Message}"); }
        }
        failures.ShouldBeEmpty();
        parsed.ShouldBeGreaterThan(25);
    }
}
