namespace Anneal.Tuning;

/// <summary>A pruner's answer at one report: stop or go on, attributes to record on the trial, and why.</summary>
public sealed record PruneDecision(bool Prune, IReadOnlyDictionary<string, double>? SetAttributes = null, string? Reason = null)
{
    /// <summary>Go on, nothing recorded.</summary>
    public static PruneDecision Continue { get; } = new(false);
}

/// <summary>
/// Decides at each intermediate report whether a running trial stops. <c>trial</c>'s last report is the current
/// one; <c>trials</c> is the whole study (the trial included), each with its reports and recorded attributes.
/// </summary>
public interface IPruner
{
    /// <summary>The pruner's name as written in a study file.</summary>
    string Name { get; }

    /// <summary>The decision at <paramref name="trial"/>'s latest report.</summary>
    PruneDecision Decide(string studyName, TrialRecord trial, IReadOnlyList<TrialRecord> trials);
}

/// <summary>Never prunes.</summary>
public sealed class NopPruner : IPruner
{
    /// <inheritdoc/>
    public string Name => "none";

    /// <inheritdoc/>
    public PruneDecision Decide(string studyName, TrialRecord trial, IReadOnlyList<TrialRecord> trials) => PruneDecision.Continue;
}

/// <summary>
/// Optuna's PercentilePruner (3.1) at percentile 50, i.e. its MedianPruner, for minimisation: once
/// <paramref name="startupTrials"/> trials are complete and the step is past <paramref name="warmupSteps"/> (checked on
/// the first report of each <paramref name="intervalSteps"/> interval), prune when the trial's best value so far is
/// above the median (numpy's linear-interpolation percentile) of the complete trials' values at exactly this step,
/// given at least <paramref name="minTrials"/> of them. A NaN best prunes.
/// </summary>
public sealed class MedianPruner(int startupTrials = 5, long warmupSteps = 0, long intervalSteps = 1, int minTrials = 1, double percentile = 50) : IPruner
{
    /// <inheritdoc/>
    public string Name => "median";

    /// <inheritdoc/>
    public PruneDecision Decide(string studyName, TrialRecord trial, IReadOnlyList<TrialRecord> trials)
    {
        var complete = trials.Where(t => t.State == TrialState.Complete).ToList();
        if (complete.Count == 0 || complete.Count < startupTrials || trial.Reports.Count == 0) return PruneDecision.Continue;
        long step = trial.Reports.Max(r => r.Step);
        if (step < warmupSteps) return PruneDecision.Continue;
        long nearestLower = (step - warmupSteps) / intervalSteps * intervalSteps + warmupSteps;
        long secondLast = trial.Reports.Select(r => r.Step).Where(s => s != step).DefaultIfEmpty(-1).Max();
        if (!(secondLast < nearestLower)) return PruneDecision.Continue;
        var own = trial.Reports.Select(r => r.Value).Where(v => !double.IsNaN(v)).ToArray();
        if (own.Length == 0) return new PruneDecision(true, Reason: "every reported value is NaN");
        double best = own.Min();
        var atStep = complete.Select(t => t.ValueAt(step)).Where(v => v is not null).Select(v => v!.Value).ToArray();
        if (atStep.Length < minTrials) return PruneDecision.Continue;
        double p = Percentile(atStep, percentile);
        if (double.IsNaN(p)) return PruneDecision.Continue;
        return best > p ? new PruneDecision(true, Reason: $"best {best:G6} is above the median {p:G6} of {atStep.Length} complete trials at step {step}") : PruneDecision.Continue;
    }

    /// <summary>numpy.nanpercentile with its default linear interpolation.</summary>
    internal static double Percentile(double[] values, double q)
    {
        var v = values.Where(x => !double.IsNaN(x)).Order().ToArray();
        if (v.Length == 0) return double.NaN;
        double pos = q / 100 * (v.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, v.Length - 1);
        return v[lo] + (pos - lo) * (v[hi] - v[lo]);
    }
}

/// <summary>
/// Asynchronous successive halving (ASHA; Li et al. 2020), exactly as Optuna 3.1's SuccessiveHalvingPruner for
/// minimisation. Rung r is reached at step min_resource x η^(rate + r); on reaching it the trial records its value as
/// <c>completed_rung_r</c> and continues only if the value is within the best ⌊n/η⌋ of the n values recorded at that
/// rung by any trial (the best one when n &lt; η). <paramref name="minResource"/> null is Optuna's "auto": the first
/// complete trial's last step / 100 (at least 1), fixed once found.
/// </summary>
public sealed class SuccessiveHalvingPruner(long? minResource = null, int reductionFactor = 4, int minEarlyStoppingRate = 0, int bootstrapCount = 0) : IPruner
{
    private long? _minResource = minResource;

    /// <inheritdoc/>
    public string Name => "asha";

    /// <summary>Reduction factor η.</summary>
    public int ReductionFactor => reductionFactor;

    /// <inheritdoc/>
    public PruneDecision Decide(string studyName, TrialRecord trial, IReadOnlyList<TrialRecord> trials)
    {
        if (trial.Reports.Count == 0) return PruneDecision.Continue;
        long step = trial.Reports.Max(r => r.Step);
        int rung = 0;
        while (trial.Attributes.ContainsKey(RungKey(rung))) rung++;
        double value = trial.ValueAt(step)!.Value;
        var set = new Dictionary<string, double>();
        while (true)
        {
            if (_minResource is null)
            {
                var done = trials.Where(t => t.State == TrialState.Complete && t.Reports.Count > 0).ToList();
                if (done.Count == 0) return Result(false, set, null);
                _minResource = Math.Max(done.Max(t => t.Reports.Max(r => r.Step)) / 100, 1);
            }
            double promotion = _minResource.Value * Math.Pow(reductionFactor, minEarlyStoppingRate + rung);
            if (step < promotion) return Result(false, set, null);
            if (double.IsNaN(value)) return Result(true, set, "the reported value is NaN");
            string key = RungKey(rung);
            set[key] = value;
            // Optuna reads the other trials as they were before this call; this trial competes through `value`.
            var competing = trials.Where(t => t.Number != trial.Number && t.Attributes.ContainsKey(key)).Select(t => t.Attributes[key]).Append(value).ToList();
            if (competing.Count <= bootstrapCount) return Result(true, set, $"rung {rung} has only {competing.Count} values (bootstrap {bootstrapCount})");
            int idx = competing.Count / reductionFactor - 1;
            if (idx == -1) idx = 0;
            competing.Sort();
            if (!(value <= competing[idx]))
                return Result(true, set, $"value {value:G6} at step {step} is not in the top {idx + 1} of {competing.Count} at rung {rung}");
            rung++;
        }
    }

    private static PruneDecision Result(bool prune, Dictionary<string, double> set, string? reason) => new(prune, set.Count > 0 ? set : null, reason);

    internal static string RungKey(int rung) => $"completed_rung_{rung}";
}

/// <summary>
/// Hyperband (Li et al. 2018) as Optuna 3.1's HyperbandPruner: ⌊log_η(max/min)⌋ + 1 brackets, bracket s running
/// successive halving with early-stopping rate s; a trial's bracket is crc32("study_trial") modulo the total budget,
/// walked through the brackets' budgets ⌈B η^(B-1-s)/(B-s)⌉. A trial competes only with its bracket's trials.
/// <paramref name="maxResource"/> null is "auto": the first complete trial's last step + 1.
/// </summary>
public sealed class HyperbandPruner(long minResource = 1, long? maxResource = null, int reductionFactor = 3, int bootstrapCount = 0) : IPruner
{
    private readonly List<SuccessiveHalvingPruner> _pruners = [];
    private readonly List<long> _budgets = [];
    private long _total;
    private long? _maxResource = maxResource;

    /// <inheritdoc/>
    public string Name => "hyperband";

    /// <summary>Number of brackets (0 before a complete trial fixes an automatic maximum).</summary>
    public int Brackets => _pruners.Count;

    /// <inheritdoc/>
    public PruneDecision Decide(string studyName, TrialRecord trial, IReadOnlyList<TrialRecord> trials)
    {
        if (_pruners.Count == 0)
        {
            if (_maxResource is null)
            {
                var done = trials.Where(t => t.State == TrialState.Complete && t.Reports.Count > 0).ToList();
                if (done.Count == 0) return PruneDecision.Continue;
                _maxResource = done.Max(t => t.Reports.Max(r => r.Step)) + 1;
            }
            int n = (int)Math.Floor(Math.Log((double)_maxResource.Value / minResource) / Math.Log(reductionFactor)) + 1;
            for (int b = 0; b < n; b++)
            {
                int s = n - 1 - b;
                long budget = (long)Math.Ceiling(n * Math.Pow(reductionFactor, s) / (s + 1));
                _total += budget;
                _budgets.Add(budget);
                _pruners.Add(new SuccessiveHalvingPruner(minResource, reductionFactor, b, bootstrapCount));
            }
        }
        int bracket = BracketOf(studyName, trial.Number);
        var mates = trials.Where(t => BracketOf(studyName, t.Number) == bracket).ToList();
        return _pruners[bracket].Decide(studyName, trial, mates);
    }

    /// <summary>The bracket of trial <paramref name="number"/> (Optuna's crc32 rule).</summary>
    public int BracketOf(string studyName, int number)
    {
        if (_pruners.Count == 0) return 0;
        long n = Crc32.Compute(System.Text.Encoding.UTF8.GetBytes($"{studyName}_{number}")) % _total;
        for (int b = 0; b < _pruners.Count; b++)
        {
            n -= _budgets[b];
            if (n < 0) return b;
        }
        throw new InvalidOperationException("unreachable: bracket budgets sum to the total");
    }
}

/// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib's and Python's binascii.crc32.</summary>
public static class Crc32
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(i =>
    {
        uint c = (uint)i;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (var b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
