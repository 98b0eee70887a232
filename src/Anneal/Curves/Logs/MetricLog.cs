namespace Anneal.Curves.Logs;

/// <summary>
/// One metric of a log as (step, value) pairs in the order they were logged, with where each came from
/// (a line or a record number) for messages.
/// </summary>
internal sealed class MetricSeries(string key, int capacity = 0)
{
    public string Key { get; } = key;
    public List<long> Steps { get; } = new(capacity);
    public List<double> Values { get; } = new(capacity);
    public List<int> Where { get; } = new(capacity);

    /// <summary>Values dropped because a later one was logged at the same or an earlier step (a resumed run).</summary>
    public int Replaced { get; private set; }

    /// <summary>The first step at which values were replaced, when <see cref="Replaced"/> &gt; 0.</summary>
    public long ReplacedFrom { get; private set; } = -1;

    public int Count => Steps.Count;

    /// <summary>Appends a value logged at the end of the log so far.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Add(long step, double value, int where)
    {
        Steps.Add(step);
        Values.Add(value);
        Where.Add(where);
    }

    /// <summary>
    /// Appends a value; when <paramref name="step"/> is not past the last one, the values at steps >= it are dropped
    /// first, as TensorBoard does when a run restarted from a checkpoint logs those steps again.
    /// </summary>
    public void AddReplacing(long step, double value, int where)
    {
        int n = Steps.Count;
        if (n > 0 && Steps[n - 1] >= step)
        {
            int keep = n;
            while (keep > 0 && Steps[keep - 1] >= step) keep--;
            Replaced += n - keep;
            if (ReplacedFrom < 0 || step < ReplacedFrom) ReplacedFrom = step;
            Steps.RemoveRange(keep, n - keep);
            Values.RemoveRange(keep, n - keep);
            Where.RemoveRange(keep, n - keep);
        }
        Add(step, value, where);
    }
}

/// <summary>
/// A training log as named metric series (TensorBoard tags, MLflow metric files, the columns of a sparse
/// table, the keys of HF's <c>log_history</c>). <see cref="ToCurve"/> picks the training loss, LR, validation
/// loss, gradient norm and tokens among the keys like a CSV header, and joins them on the loss's steps.
/// </summary>
internal sealed class MetricLog(string file, string format, string whereWord)
{
    private readonly Dictionary<string, MetricSeries> _byKey = new(StringComparer.Ordinal);

    /// <summary>The path named in messages.</summary>
    public string File { get; } = file;

    /// <summary>What the log is, for notes ("TensorBoard event file").</summary>
    public string Format { get; } = format;

    /// <summary>"line" or "record": what <see cref="MetricSeries.Where"/> counts.</summary>
    public string WhereWord { get; } = whereWord;

    /// <summary>Series in the order their keys first appeared.</summary>
    public List<MetricSeries> Series { get; } = [];

    public List<FormattableString> Notes { get; } = [];
    public List<string> Warnings { get; } = [];

    /// <summary>Values a series may get at most (a TensorBoard file's record count), so series are sized once.</summary>
    public int CapacityHint { get; set; }

    /// <summary>The series of <paramref name="key"/>, created on first use.</summary>
    public MetricSeries Get(string key)
    {
        if (!_byKey.TryGetValue(key, out var s))
        {
            s = new MetricSeries(key, CapacityHint);
            _byKey[key] = s;
            Series.Add(s);
        }
        return s;
    }

    /// <summary>
    /// The curve: one row per logged training loss (steps strictly increasing), with the LR as last logged at or
    /// before each row's step (schedulers change it between logs), and the validation loss, gradient norm and
    /// tokens where logged at exactly that step. Validation points at steps without a training loss are dropped
    /// with a warning, like the other readers do.
    /// </summary>
    public LossCurve ToCurve(CurveReadOptions options, string name)
    {
        var keys = Series.Where(s => s.Count > 0).Select(s => s.Key).ToList();
        if (keys.Count == 0)
            throw new CurveFormatException($"{File}: the {Format} holds no scalar values{(Warnings.Count > 0 ? $" ({Warnings[0]})" : "")}; " +
                "give the log of a run that has logged its loss (a TensorBoard log needs scalar summaries, e.g. writer.add_scalar(\"train/loss\", loss, step))");
        var notes = new List<FormattableString>(Notes);
        var map = CurveColumns.Resolve(keys, options, File, 0, "metrics", notes, stepRequired: false);
        var loss = _byKey[keys[map[(int)CurveRole.Loss]]];
        var warnings = new List<string>(Warnings);
        for (int i = 1; i < loss.Count; i++)
            if (loss.Steps[i] <= loss.Steps[i - 1])
                throw new CurveFormatException(File, WhereWord == "line" ? loss.Where[i] : 0, loss.Key,
                    $"step {loss.Steps[i]} ({WhereWord} {loss.Where[i]}) comes after step {loss.Steps[i - 1]} ({WhereWord} {loss.Where[i - 1]}); steps must be strictly increasing",
                    "Keep one value per step in increasing order: remove the duplicate (e.g. from a resumed run) or sort the log by step.");
        int n = loss.Count;
        int? divergedAt = null;
        if (options.StopAtNonFinite)
        {
            // a diverged run: keep the values before the first non-finite training loss
            int bad = loss.Values.FindIndex(v => !double.IsFinite(v));
            if (bad == 0)
                throw new CurveFormatException(File, 0, loss.Key, $"the training loss is not finite at the first logged step ({loss.Steps[0]}), so nothing is left to read",
                    "The run diverged immediately: lower the learning rate or check the logging.");
            if (bad > 0)
            {
                divergedAt = bad;
                warnings.Add($"{File}: the training loss '{loss.Key}' is not finite at step {loss.Steps[bad]} ({WhereWord} {loss.Where[bad]}): the run diverged; read {bad} values up to step {loss.Steps[bad - 1]} and ignored the rest");
                n = bad;
            }
        }
        var steps = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(loss.Steps)[..n].ToArray();
        if (n > 0 && steps[0] < 0)
            throw new CurveFormatException(File, WhereWord == "line" ? loss.Where[0] : 0, loss.Key, $"step {steps[0]} is negative", "Steps count optimizer updates from 0; fix or remove the value.");
        if (n == 0)
            throw new CurveFormatException(File, 0, loss.Key, "the training loss has no values", "Check that the run logged anything.");
        // Columns are filled straight into the curve's arrays (a TensorBoard log may hold a million steps); the
        // steps were checked above, and each value is checked by the rules every reader shares (CurveRows.Check).
        var cols = new double[CurveColumns.RoleCount][];
        for (int r = 1; r < CurveColumns.RoleCount; r++)
        {
            if (map[r] < 0) continue;
            var s = _byKey[keys[map[r]]];
            var col = new double[n];
            if (r == (int)CurveRole.Loss) loss.Values.CopyTo(0, col, 0, n);
            else if (r == (int)CurveRole.Lr) AsOf(s, steps, col);
            else
            {
                int dropped = Exact(s, steps, col, out long firstDropped);
                if (dropped > 0 && r == (int)CurveRole.ValLoss)
                    warnings.Add($"{File}: {dropped} validation point(s) of '{s.Key}' at steps with no training loss were skipped (first: step {firstDropped})");
            }
            for (int i = 0; i < n; i++)
            {
                double v = col[i];
                if (double.IsFinite(v) && v >= 0 || double.IsNaN(v) && r != (int)CurveRole.Loss) continue;
                int at = r == (int)CurveRole.Loss ? loss.Where[i] : 0;
                var key = keys[map[r]];
                col[i] = CurveRows.Check((CurveRole)r, v, false, File, WhereWord == "line" ? at : 0, WhereWord == "line" || at == 0 ? key : $"{key}, {WhereWord} {at}",
                    v.ToString(System.Globalization.CultureInfo.InvariantCulture), steps[i]);
            }
            cols[r] = col;
        }
        foreach (var s in Series)
            if (s.Replaced > 0 && (s == loss || Array.IndexOf(map, keys.IndexOf(s.Key)) > 0))
                notes.Add($"{File}: '{s.Key}' was logged again from step {s.ReplacedFrom} (a resumed run): the {s.Replaced} earlier value(s) from that step on were replaced by the later ones");
        var curve = new LossCurve
        {
            Name = name, Steps = steps, Lr = cols[(int)CurveRole.Lr], Loss = cols[(int)CurveRole.Loss], ValLoss = cols[(int)CurveRole.ValLoss],
            GradNorm = cols[(int)CurveRole.GradNorm], Tokens = cols[(int)CurveRole.Tokens], Epochs = cols[(int)CurveRole.Epoch], SourceFile = File, Warnings = warnings, NoteTexts = notes, Format = Format,
        };
        return divergedAt is int d ? curve with { DivergedAtLine = WhereWord == "line" ? loss.Where[d] : d + 1, DivergedAtStep = loss.Steps[d] } : curve;
    }

    /// <summary>The last value at or before each step (NaN before the first).</summary>
    private static void AsOf(MetricSeries s, long[] steps, double[] into)
    {
        int j = -1;
        for (int i = 0; i < steps.Length; i++)
        {
            while (j + 1 < s.Count && s.Steps[j + 1] <= steps[i]) j++;
            into[i] = j >= 0 ? s.Values[j] : double.NaN;
        }
    }

    /// <summary>Values at exactly the rows' steps (NaN elsewhere); returns how many values had no such row. Both are sorted: one merge walk.</summary>
    private static int Exact(MetricSeries s, long[] steps, double[] into, out long firstDropped)
    {
        Array.Fill(into, double.NaN);
        int dropped = 0, i = 0;
        firstDropped = -1;
        for (int k = 0; k < s.Count; k++)
        {
            long step = s.Steps[k];
            while (i < steps.Length && steps[i] < step) i++;
            if (i < steps.Length && steps[i] == step) { into[i] = s.Values[k]; continue; }
            if (dropped++ == 0) firstDropped = step;
        }
        return dropped;
    }
}
