using System.Globalization;
using System.Text;
using Anneal.IO;

namespace Anneal.Planning;

/// <summary>One finished training run: the inputs to the scaling fits.</summary>
/// <param name="Params">Model parameters N (non-embedding for the Step Law fit).</param>
/// <param name="Tokens">Training tokens D.</param>
/// <param name="Lr">Peak learning rate (needed by the Step Law fit).</param>
/// <param name="Batch">Batch size in tokens per step (needed by the Step Law fit).</param>
/// <param name="Loss">Final loss in nats per token.</param>
/// <param name="Flops">Training FLOPs if known; otherwise 6 N D is used.</param>
/// <param name="Line">1-based line in the source file (0 when made in code), for messages.</param>
public sealed record ScalingRun(double Params, double Tokens, double Lr, double Batch, double Loss, double? Flops = null, int Line = 0)
{
    /// <summary>Training compute: the given FLOPs, else <c>C = 6 N D</c> (Kaplan et al. 2020).</summary>
    public double Compute => Flops ?? 6 * Params * Tokens;
}

/// <summary>
/// Reads and writes RUNS.csv: a header <c>params,tokens,lr,batch,loss[,flops]</c> (any order, case
/// insensitive) then one row per finished run. Lines starting with '#' are comments.
/// </summary>
public static class ScalingRunsCsv
{
    /// <summary>Reads runs; <paramref name="needLrBatch"/> makes the lr and batch columns required.</summary>
    public static IReadOnlyList<ScalingRun> Read(string path, bool needLrBatch)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: file not found; give the path of a runs CSV (header params,tokens,lr,batch,loss[,flops]); `anneal scaling example` writes one");
        return Parse(File.ReadAllLines(path), path, needLrBatch);
    }

    public static IReadOnlyList<ScalingRun> Parse(IReadOnlyList<string> lines, string name, bool needLrBatch)
    {
        var runs = new List<ScalingRun>();
        Dictionary<string, int>? cols = null;
        int width = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            int lineNo = i + 1;
            string raw = lines[i].Trim();
            if (raw.Length == 0 || raw.StartsWith('#')) continue;
            var cells = raw.Split(',');
            if (cols is null)
            {
                cols = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                for (int c = 0; c < cells.Length; c++)
                {
                    string h = cells[c].Trim().Trim('"');
                    if (h.Length > 0 && !cols.TryAdd(h, c)) throw new InputException($"{name}:{lineNo}: column '{h}' appears twice in the header; keep one");
                }
                width = cells.Length;
                var required = needLrBatch ? new[] { "params", "tokens", "lr", "batch", "loss" } : new[] { "params", "tokens", "loss" };
                var missing = required.Where(r => !cols.ContainsKey(r)).ToList();
                if (missing.Count > 0)
                    throw new InputException($"{name}:{lineNo}: missing column(s) {string.Join(", ", missing.Select(m => $"'{m}'"))}; the header must name params,tokens,lr,batch,loss[,flops] (batch in tokens per step)");
                continue;
            }
            if (cells.Length != width)
                throw new InputException($"{name}:{lineNo}: {cells.Length} fields but the header has {width}; every row needs one value per column");
            double Get(string col, bool required)
            {
                if (!cols.TryGetValue(col, out int c)) return double.NaN;
                string s = cells[c].Trim().Trim('"');
                if (s.Length == 0)
                {
                    if (!required) return double.NaN;
                    throw new InputException($"{name}:{lineNo}: column '{col}' is empty; give a positive number");
                }
                if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new InputException($"{name}:{lineNo}: column '{col}' value '{s}' is not a number; use plain decimal or 1e9-style notation");
                if (!double.IsFinite(v) || v <= 0)
                    throw new InputException($"{name}:{lineNo}: column '{col}' must be a finite number > 0, got '{s}'; fix or remove this run");
                return v;
            }
            double n = Get("params", true), d = Get("tokens", true), loss = Get("loss", true);
            double lr = Get("lr", needLrBatch), batch = Get("batch", needLrBatch), flops = Get("flops", false);
            runs.Add(new ScalingRun(n, d, lr, batch, loss, double.IsNaN(flops) ? null : flops, lineNo));
        }
        if (cols is null) throw new InputException($"{name}: no header found; the first non-comment line must be params,tokens,lr,batch,loss[,flops]");
        if (runs.Count == 0) throw new InputException($"{name}: header but no runs; add one row per finished run");
        return runs;
    }

    /// <summary>Writes runs (atomically) with optional '#' comment lines first.</summary>
    public static void Write(string path, IReadOnlyList<ScalingRun> runs, IEnumerable<string>? comments = null) =>
        AtomicFile.WriteAllText(path, Format(runs, comments));

    public static string Format(IReadOnlyList<ScalingRun> runs, IEnumerable<string>? comments = null)
    {
        var sb = new StringBuilder();
        foreach (var c in comments ?? []) sb.Append("# ").AppendLine(c);
        bool flops = runs.Any(r => r.Flops is not null);
        sb.AppendLine(flops ? "params,tokens,lr,batch,loss,flops" : "params,tokens,lr,batch,loss");
        foreach (var r in runs)
        {
            sb.Append(RoundTrip(r.Params)).Append(',').Append(RoundTrip(r.Tokens)).Append(',').Append(RoundTrip(r.Lr)).Append(',')
              .Append(RoundTrip(r.Batch)).Append(',').Append(RoundTrip(r.Loss));
            if (flops) sb.Append(',').Append(r.Flops is { } c ? RoundTrip(c) : "");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string RoundTrip(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
