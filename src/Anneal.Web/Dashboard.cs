using System.Collections.Concurrent;
using Anneal.Accuracy;
using Anneal.Fitting;
using Anneal.Laws;
using Anneal.Schedules;
using Anneal.Specs;
using Anneal.Store;

namespace Anneal.Web;

/// <summary>
/// The server's shared state: the run source (seeded with the example runs when empty), fitted laws kept for the
/// designer, and the accuracy table computed once per process. Fits and optimisations are heavy: one runs at a time,
/// so a burst of requests queues instead of starving the machine.
/// </summary>
public sealed class Dashboard
{
    private readonly ServerOptions _options;
    private readonly ConcurrentDictionary<string, (FitResult Result, long[] Runs)> _fits = new();
    private readonly ConcurrentDictionary<string, object> _designs = new();
    private readonly ConcurrentDictionary<string, Anneal.Design.DesignLaw> _designLaws = new();
    private readonly ConcurrentDictionary<string, FittedLaw> _curveLaws = new();
    private readonly ConcurrentDictionary<string, ConcurrentBag<IFinalLoss>> _objectives = new();
    private readonly object _accuracyLock = new();
    private Task<AccuracyReport>? _accuracy;
    private volatile string _accuracyProgress = "";

    private readonly ConcurrentDictionary<string, Anneal.Design.ProbeReference> _probeReferences = new();

    /// <summary>The calibration designs of <c>/api/probe</c>, computed in the background.</summary>
    public ProbeJobs Probes { get; }

    /// <summary>Serialises heavy work (fits, free optima, the accuracy run).</summary>
    public SemaphoreSlim Heavy { get; } = new(1, 1);

    /// <summary>The run store.</summary>
    public RunStore Runs { get; }

    /// <summary>The server's options.</summary>
    public ServerOptions Options => _options;

    /// <summary>Opens the dashboard over <paramref name="runs"/>, adding the example runs when it holds none.</summary>
    public Dashboard(ServerOptions options, RunStore runs)
    {
        _options = options;
        Runs = runs;
        Probes = new ProbeJobs(options.UnpolledJob);
        // all or none, and once when servers start together on one empty store
        runs.SeedIfEmpty(() => [.. options.Examples().SelectMany(corpus => corpus.Runs.Select(r => (r.Curve, (NewRun?)new NewRun
        {
            Name = r.Name, Tags = ["example", corpus.Name], Schedule = r.Schedule ?? r.Curve.ScheduleSpec, SourceFile = $"bundled example {corpus.Name}/{r.Name}",
        })))]);
    }

    /// <summary>Longest schedule spec accepted.</summary>
    public const int MaxSpecLength = 4000;

    /// <summary>Longest horizon the dashboard predicts or designs (steps).</summary>
    public const long MaxSteps = 10_000_000;

    /// <summary>
    /// Parses a schedule spec from a request with the library's parser. Specs that read a file on the server
    /// (<c>refined(file=...)</c>) are refused: a request must never make the server open a path it names.
    /// </summary>
    public static Schedule ParseSchedule(string? text, string field = "schedule")
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ApiException(400, $"{field}: give a schedule spec, e.g. wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2, shape=sqrt)");
        if (text.Length > MaxSpecLength) throw new ApiException(400, $"{field}: a spec of at most {MaxSpecLength} characters");
        SpecCall call;
        try { call = SpecCall.Parse(text); }
        catch (SpecException e) { throw new ApiException(400, $"{field}: {e.Message}"); }
        if (NamesFile(call)) throw new ApiException(400, $"{field}: specs that read a file on the server (file=...) are not accepted here; give the values inline (e.g. norms=[...])");
        try { return ScheduleRegistry.Create(call); }
        catch (InputException e) { throw new ApiException(400, $"{field}: {e.Message}"); }
    }

    private static bool NamesFile(SpecCall c) => c.Args.Any(a => a.Name == "file" || a.Value is SpecCall inner && NamesFile(inner)
        || a.Value is SpecList l && l.Items.OfType<SpecCall>().Any(NamesFile));

    /// <summary>Parses a law spec (e.g. <c>auto</c>, <c>mpl(warmup=reference)</c>) with the library's parser.</summary>
    public static LossLaw ParseLaw(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return new AutoLaw();
        if (text.Length > 200) throw new ApiException(400, "law: a law spec of at most 200 characters");
        try { return LossLaw.Parse(text); }
        catch (InputException e) { throw new ApiException(400, "law: " + e.Message); }
    }

    /// <summary>A fit kept for later requests (the designer uses its law by id; saving it records <paramref name="runs"/>, the stored runs it was fitted to).</summary>
    public string KeepFit(string key, FitResult result, IReadOnlyList<long> runs)
    {
        if (_fits.Count > 64) _fits.Clear();
        _fits[key] = (result, runs.ToArray());
        return key;
    }

    /// <summary>The law of a fit kept by <see cref="KeepFit"/>, or null.</summary>
    public FittedLaw? Fit(string key) => _fits.TryGetValue(key, out var f) ? f.Result.Fit : null;

    /// <summary>A fit kept by <see cref="KeepFit"/> with its prepared runs and per-run scores, or null.</summary>
    public FitResult? FitResult(string key) => _fits.TryGetValue(key, out var f) ? f.Result : null;

    /// <summary>
    /// The stored law a result computed with law <paramref name="name"/> links to: a saved law (<c>law:ID</c>) is itself; a fit
    /// of this server (its fit id) is saved with the runs it was fitted to (once: saving the same fit again finds it); a
    /// built-in law is saved once without runs. The saving is the library's (<see cref="Provenance"/>), as the CLI's <c>--store</c>.
    /// </summary>
    public (long Id, bool Saved) LawInStore(string name)
    {
        if (Provenance.IsLaw(name)) return (Provenance.ReadLaw(Runs, name).Id, false);
        if (BuiltinLaws.Resolve(name) is { } builtin)
        {
            long? known = Runs.FindArtifact(ArtifactKind.Law, builtin.ToJson());
            return known is { } k ? (k, false) : (Provenance.LawFromOutside(Runs, builtin, name), true);
        }
        if (!_fits.TryGetValue(name, out var f))
            throw new ApiException(400, $"law: '{(name.Length <= 60 ? name : name[..60] + "...")}' is neither a saved law (law:ID), a built-in law ({string.Join(", ", BuiltinLaws.Names)}) nor a fit of this server (fit runs on the Forecast page first)");
        lock (_fits)
        {
            long? same = Runs.FindArtifact(ArtifactKind.Law, f.Result.Fit.ToJson());
            return same is { } id ? (id, false) : (Provenance.SaveLaw(Runs, f.Result.Fit, f.Runs), true);
        }
    }

    /// <summary>A cached design result, computing it once per key.</summary>
    public T Design<T>(string key, Func<T> compute) where T : class
    {
        if (_designs.TryGetValue(key, out var v)) return (T)v;
        var r = compute();
        if (_designs.Count > 64) _designs.Clear();
        _designs[key] = r;
        return r;
    }

    /// <summary>
    /// The designer's law by name (a built-in or a fit id), made once: every slider move resolves it. A fit kept under
    /// the same id again is the same fit (same law, runs and target), so the cached law stays right.
    /// </summary>
    public Anneal.Design.DesignLaw DesignLaw(string name, Func<Anneal.Design.DesignLaw> create)
    {
        if (_designLaws.TryGetValue(name, out var law)) return law;
        law = create();
        if (_designLaws.Count > 64) _designLaws.Clear();
        return _designLaws[name] = law;
    }

    /// <summary>The multi-power law that draws a design law's curves, made once per design law.</summary>
    public FittedLaw CurveLaw(string source, Func<FittedLaw> create) => _curveLaws.Count > 64 ? create() : _curveLaws.GetOrAdd(source, _ => create());

    /// <summary>
    /// A final-loss evaluator for one design problem (law, horizon, warmup, peak, floor), reused across slider moves:
    /// it keeps six buffers of the horizon's length (48 MB at a million steps) that a new one would allocate on every
    /// move. Not thread-safe, so each request rents one and gives it back (<see cref="ReturnObjective"/>).
    /// </summary>
    public IFinalLoss RentObjective(string key, Func<IFinalLoss> create) =>
        _objectives.TryGetValue(key, out var bag) && bag.TryTake(out var o) ? o : create();

    /// <summary>Gives back an evaluator rented with <see cref="RentObjective"/>; only the latest problems are kept.</summary>
    public void ReturnObjective(string key, IFinalLoss objective)
    {
        if (_objectives.Count > 4 && !_objectives.ContainsKey(key)) _objectives.Clear();
        var bag = _objectives.GetOrAdd(key, _ => []);
        if (bag.Count < 2) bag.Add(objective);
    }

    private CurveMemo? _curveMemo;

    /// <summary>
    /// The designer's curve through the last move's <see cref="CurveMemo"/> (exact: points whose rates did not change
    /// keep their loss). Concurrent updates do not wait: one that finds the memo taken evaluates every point itself.
    /// </summary>
    public double[] DesignCurve(string lawKey, FittedLaw law, double[] eta, long[] at)
    {
        var memo = Interlocked.Exchange(ref _curveMemo, null) ?? new CurveMemo();
        var loss = memo.Predict(lawKey, law, eta, at);
        Volatile.Write(ref _curveMemo, memo);
        return loss;
    }

    /// <summary>Points of the last designer curve taken from the memo (for tests).</summary>
    internal int DesignCurveReused => Volatile.Read(ref _curveMemo)?.Reused ?? -1;

    private readonly ConcurrentDictionary<string, object> _designAnswers = new(StringComparer.Ordinal);
    private int _designForecasts;

    /// <summary>
    /// A designer update whose curve is a whole forecast (an auto stack's or a seed ensemble's: two forecasts of the schedule
    /// a move, no <see cref="CurveMemo"/>), kept by its request (<paramref name="key"/>: law, horizon, warmup, peak, floor,
    /// cooldown, shape, points): a slider dragged back over values it passed, or a move the rounding of the sliders maps to
    /// the same schedule, is answered without forecasting again. At most 256 answers of ~20 kB are kept, then all dropped.
    /// </summary>
    public object DesignAnswer(string key, Func<object> compute)
    {
        if (_designAnswers.TryGetValue(key, out var answer)) return answer;
        answer = compute();
        Interlocked.Increment(ref _designForecasts);
        if (_designAnswers.Count >= 256) _designAnswers.Clear();
        return _designAnswers.GetOrAdd(key, answer);
    }

    /// <summary>Designer updates computed by <see cref="DesignAnswer"/> rather than taken from it (for tests).</summary>
    internal int DesignForecasts => Volatile.Read(ref _designForecasts);

    private readonly ConcurrentBag<double[]> _rates = [];

    /// <summary>
    /// A buffer of <paramref name="length"/> rates for one designer update, reused across slider moves (a million-step
    /// horizon is 8 MB, which a new array per move pays in page faults and collections). Give it back with
    /// <see cref="ReturnRates"/>; its contents are whatever the last user left.
    /// </summary>
    public double[] RentRates(int length)
    {
        while (_rates.TryTake(out var a))
            if (a.Length == length) return a; // buffers of another horizon are dropped: the sliders moved on
        return GC.AllocateUninitializedArray<double>(length);
    }

    /// <summary>Gives back a buffer rented with <see cref="RentRates"/>; at most two are kept.</summary>
    public void ReturnRates(double[] rates)
    {
        if (_rates.Count < 2) _rates.Add(rates);
    }

    /// <summary>
    /// The example corpus <paramref name="name"/> as the runs prior laws are fitted on for <c>/api/probe</c>
    /// (<see cref="Anneal.Design.ProbeReference.Of"/>, as <c>anneal probe --reference</c> reads it), made once per name.
    /// </summary>
    public Anneal.Design.ProbeReference ProbeReference(string name) => _probeReferences.GetOrAdd(name, n =>
    {
        var corpora = _options.Examples();
        var corpus = corpora.FirstOrDefault(c => c.Name == n)
            ?? throw new ApiException(400, $"reference: '{(n.Length <= 60 ? n : n[..60] + "...")}' is not an example corpus of this server ({string.Join(", ", corpora.Select(c => c.Name))})");
        return Anneal.Design.ProbeReference.Of(corpus);
    });

    /// <summary>
    /// The accuracy table of the example corpora (the computation of <c>anneal accuracy</c>), started on the first
    /// call and kept for the life of the process: null while it runs, with its latest progress message.
    /// </summary>
    public (AccuracyReport? Report, string Progress, Exception? Error) Accuracy()
    {
        lock (_accuracyLock)
        {
            _accuracy ??= Task.Run(async () =>
            {
                await Heavy.WaitAsync();
                try
                {
                    var corpora = (_options.AccuracyCorpora ?? _options.Examples)();
                    if (corpora.Count == 0) throw new ApiException(404, "this server has no example corpora to score laws on");
                    return ForecastBenchmark.Run(new AccuracyRequest(corpora, _options.AccuracyLaws) { Options = new FitOptions() },
                        new Progress<string>(m => _accuracyProgress = m));
                }
                finally { Heavy.Release(); }
            });
        }
        var t = _accuracy;
        if (!t.IsCompleted) return (null, _accuracyProgress, null);
        return t.IsFaulted ? (null, "", t.Exception!.InnerException) : (t.Result, "", null);
    }
}
