using System.Text.Json.Serialization;
using static Anneal.ParameterName;

namespace Anneal.Planning;

/// <summary>What the user is planning.</summary>
/// <param name="Params">Parameter count N as given.</param>
/// <param name="Tokens">Training tokens D.</param>
/// <param name="SeqLen">Sequence length L, to express token batches as sequences.</param>
/// <param name="Flops">Training budget C in FLOPs; when absent C = 6 N D for the allocation and C = M D for DeepSeek.</param>
/// <param name="Batch">The batch the user intends to use, in tokens per step (for the critical-batch numbers).</param>
/// <param name="NonEmbedding">True when <paramref name="Params"/> already excludes embedding parameters.</param>
/// <param name="Layers">Number of transformer layers (with <paramref name="DModel"/>: DeepSeek's exact M).</param>
/// <param name="DModel">Model width.</param>
/// <param name="Vocab">Vocabulary size, to subtract V * d_model embedding parameters when N includes them.</param>
/// <param name="Loss">Loss (nats/token) at which to evaluate the critical batch; default: Chinchilla prediction.</param>
/// <param name="Fits">Laws fitted to the user's own runs (a scaling fit's JSON, <see cref="FitFile"/>), shown beside the published ones.</param>
public sealed record PlanInputs(double Params, double Tokens, int SeqLen = 2048, double? Flops = null, double? Batch = null,
                                bool NonEmbedding = false, int? Layers = null, int? DModel = null, int? Vocab = null, double? Loss = null,
                                IReadOnlyList<OwnRunLaws>? Fits = null);

/// <summary>A law fitted to the user's runs: exactly one of the two laws is set.</summary>
/// <param name="Source">Where it came from (the fit file).</param>
/// <param name="Chinchilla">A fitted Chinchilla loss law (adds an allocation row).</param>
/// <param name="StepLaw">A fitted Step Law (adds an LR/batch row).</param>
public sealed record OwnRunLaws(string Source, ChinchillaLaw? Chinchilla = null, StepLaw? StepLaw = null);

/// <summary>One number with the formula and source that produced it (a plan's explanation of itself).</summary>
public sealed record Explained(string Quantity, double Value, string Unit, string Formula, string Source);

/// <summary>A law's recommended peak LR and batch.</summary>
public sealed record LrBatchRecommendation(LawSource Law, double Lr, double BatchTokens, double BatchSequences);

/// <summary>Compute-optimal allocation under one Chinchilla constant set.</summary>
public sealed record Allocation(LawSource Law, ChinchillaLaw Constants, double Flops, double OptimalParams, double OptimalTokens,
                                double TokensPerParam, double LossAtOptimum, double LossAtPlan);

/// <summary>Critical batch numbers at the planned batch.</summary>
public sealed record CriticalBatchPlan(double Loss, string LossSource, double CriticalBatchTokens, double BatchTokens,
                                       double Steps, double MinSteps, double MinTokens);

/// <summary>Everything <c>anneal plan</c> reports.</summary>
public sealed record HyperparameterPlan(
    PlanInputs Inputs, double NonEmbeddingParams, double FlopsPerToken, double DeepSeekFlops, double BudgetFlops,
    LrBatchRecommendation StepLaw, LrBatchRecommendation DeepSeek, double LrRatio, double BatchRatio,
    IReadOnlyList<LrBatchRecommendation> FittedLrBatch,
    IReadOnlyList<Allocation> Allocations, CriticalBatchPlan CriticalBatch,
    IReadOnlyList<string> Notes, IReadOnlyList<Explained> Explanations)
{
    /// <summary>The <see cref="Notes"/> as texts whose <see cref="ParameterName"/> holes name the inputs they refer to.</summary>
    [JsonIgnore]
    public IReadOnlyList<FormattableString> NoteTexts { get; init; } = [];

    /// <summary>The notes with the inputs named as <paramref name="name"/> maps them (a command line's <c>--params</c> for <c>params</c>).</summary>
    public IEnumerable<string> NotesNaming(Func<string, string> name) => NoteTexts.Select(n => ParameterName.Render(n, name));
}

/// <summary>Builds a <see cref="HyperparameterPlan"/> from published laws (pure; no I/O).</summary>
public static class Planner
{
    public static HyperparameterPlan Plan(PlanInputs p)
    {
        Check(p);
        var notes = new List<FormattableString>();
        var ex = new List<Explained>();

        double n = p.Params;
        if (!p.NonEmbedding)
        {
            if (p.Vocab is { } v && p.DModel is { } dm)
            {
                n = p.Params - (double)v * dm;
                if (n <= 0) throw InputException.Naming($"{Params} ({p.Params:G4}) minus {Vocab} x {DModel} ({(double)v * dm:G4}) is not positive; give the non-embedding count and set {NonEmbedding}");
                notes.Add($"N = params - vocab x d_model = {Sci(n)} (tied input/output embedding assumed; set {NonEmbedding} if {Params} already excludes embeddings).");
                ex.Add(new("non-embedding N", n, "params", "N = params - V * d_model", "embedding table removed; Step Law and DeepSeek count non-embedding parameters"));
            }
            else
            {
                notes.Add($"Step Law and DeepSeek use NON-EMBEDDING parameters; {Params} was taken as such. Set {NonEmbedding} to confirm, or give {Vocab} and {DModel} to subtract the embedding.");
            }
        }

        double d = p.Tokens;
        double m;
        string mFormula;
        if (p.Layers is { } layers && p.DModel is { } width)
        {
            m = DeepSeekLaw.FlopsPerToken(layers, width, p.SeqLen);
            mFormula = "M = 72 n_layer d_model^2 + 12 n_layer d_model L (DeepSeek, includes attention scores)";
        }
        else
        {
            m = 6 * n;
            mFormula = "M ~ 6 N (forward + backward matmuls; leaves out attention-score FLOPs 12 n_layer d_model L, which the number of layers and d_model give exactly)";
            notes.Add($"DeepSeek's C = M D with M approximated as 6N (no {Layers}/{DModel} given); this understates C for long sequences.");
        }
        double cDeep = p.Flops ?? m * d;
        double cBudget = p.Flops ?? 6 * n * d;
        ex.Add(new("FLOPs per token M", m, "FLOPs", mFormula, "DeepSeek LLM (arXiv 2401.02954)"));
        ex.Add(new("DeepSeek compute C", cDeep, "FLOPs", p.Flops is null ? "C = M * D" : "C = the given FLOPs budget", "DeepSeek LLM (arXiv 2401.02954)"));
        ex.Add(new("allocation budget C", cBudget, "FLOPs", p.Flops is null ? "C = 6 N D" : "C = the given FLOPs budget", "Kaplan et al. 2020; Hoffmann et al. 2022"));

        var sl = StepLaw.Published;
        double lrStep = sl.LearningRate(n, d), bStep = sl.BatchTokens(d);
        var step = new LrBatchRecommendation(StepLaw.Source, lrStep, bStep, bStep / p.SeqLen);
        ex.Add(new("Step Law peak LR", lrStep, "", "eta = 1.79 N^-0.713 D^0.307", StepLaw.Source.Citation));
        ex.Add(new("Step Law batch", bStep, "tokens", "B = 0.58 D^0.571", StepLaw.Source.Citation));
        ex.Add(new("Step Law batch", bStep / p.SeqLen, "sequences", $"B / L, L = {p.SeqLen}", "tokens per step divided by sequence length"));

        var ds = DeepSeekLaw.Published;
        double lrDeep = ds.LearningRate(cDeep), bDeep = ds.BatchTokens(cDeep);
        var deep = new LrBatchRecommendation(DeepSeekLaw.Source, lrDeep, bDeep, bDeep / p.SeqLen);
        ex.Add(new("DeepSeek peak LR", lrDeep, "", "eta = 0.3118 C^-0.1250", DeepSeekLaw.Source.Citation));
        ex.Add(new("DeepSeek batch", bDeep, "tokens", "B = 0.2920 C^0.3271", DeepSeekLaw.Source.Citation));
        ex.Add(new("LR ratio", lrStep / lrDeep, "", "eta_StepLaw / eta_DeepSeek", "disagreement between the two laws"));
        ex.Add(new("batch ratio", bStep / bDeep, "", "B_StepLaw / B_DeepSeek", "disagreement between the two laws"));

        var fittedLrBatch = new List<LrBatchRecommendation>();
        var sets = new List<(LawSource, ChinchillaLaw)> { (ChinchillaLaw.PublishedSource, ChinchillaLaw.Published), (ChinchillaLaw.EpochSource, ChinchillaLaw.EpochRefit) };
        foreach (var f in p.Fits ?? [])
        {
            var src = new LawSource(f.Chinchilla is not null ? "Chinchilla (your fit)" : "Step Law (your fit)", f.Source,
                "fitted to your runs: see the fit's confidence intervals; extrapolating beyond your runs' range is a guess");
            if (f.Chinchilla is { } c) sets.Add((src, c));
            if (f.StepLaw is { } sf)
            {
                double lrF = sf.LearningRate(n, d), bF = sf.BatchTokens(d);
                fittedLrBatch.Add(new LrBatchRecommendation(src, lrF, bF, bF / p.SeqLen));
                ex.Add(new("Step Law (your fit) peak LR", lrF, "", $"eta = {sf.LrCoefficient:G6} N^{sf.LrParamsExponent:G6} D^{sf.LrTokensExponent:G6}", f.Source));
                ex.Add(new("Step Law (your fit) batch", bF, "tokens", $"B = {sf.BatchCoefficient:G6} D^{sf.BatchTokensExponent:G6}", f.Source));
            }
        }
        var allocations = new List<Allocation>();
        foreach (var (src, law) in sets)
        {
            var (no, dopt) = law.ComputeOptimal(cBudget);
            var a = new Allocation(src, law, cBudget, no, dopt, dopt / no, law.Loss(no, dopt), law.Loss(n, d));
            allocations.Add(a);
            string consts = $"E={law.E:G6}, A={law.A:G6}, B={law.B:G6}, alpha={law.Alpha:G6}, beta={law.Beta:G6}";
            ex.Add(new($"{src.Name}: N_opt", no, "params", $"N_opt = G (C/6)^(beta/(alpha+beta)), G = (alpha A/(beta B))^(1/(alpha+beta)); {consts}", src.Citation));
            ex.Add(new($"{src.Name}: D_opt", dopt, "tokens", "D_opt = G^-1 (C/6)^(alpha/(alpha+beta))", src.Citation));
            ex.Add(new($"{src.Name}: tokens/param", dopt / no, "", "D_opt / N_opt", src.Citation));
            ex.Add(new($"{src.Name}: loss at optimum", a.LossAtOptimum, "nats", "L = E + A/N^alpha + B/D^beta at (N_opt, D_opt)", src.Citation));
            ex.Add(new($"{src.Name}: loss at plan", a.LossAtPlan, "nats", "L = E + A/N^alpha + B/D^beta at (N, D)", src.Citation));
        }

        double loss = p.Loss ?? ChinchillaLaw.Published.Loss(n, d);
        string lossSource = p.Loss is null ? "Chinchilla (published) prediction at (N, D); Kaplan's constants were fitted on a different dataset/tokeniser" : "the given loss";
        var kb = CriticalBatch.Kaplan;
        double bCrit = kb.Tokens(loss);
        double batch = p.Batch ?? bStep;
        double steps = d / batch;
        var crit = new CriticalBatchPlan(loss, lossSource, bCrit, batch, steps,
            CriticalBatch.MinSteps(steps, batch, bCrit), CriticalBatch.MinTokens(d, batch, bCrit));
        if (p.Batch is null) notes.Add($"Critical-batch numbers use the Step Law batch (no {Parameter("batch")} given).");
        ex.Add(new("critical batch B_crit", bCrit, "tokens", $"B_crit = 2e8 / L^(1/0.21), L = {loss:G4} ({lossSource})", CriticalBatch.Source.Citation));
        ex.Add(new("steps S", steps, "steps", "S = D / B", "definition"));
        ex.Add(new("S_min", crit.MinSteps, "steps", "S_min = S / (1 + B_crit/B)", CriticalBatch.Source.Citation));
        ex.Add(new("E_min", crit.MinTokens, "tokens", "E_min = D / (1 + B/B_crit)", CriticalBatch.Source.Citation));
        if (batch > bCrit) notes.Add($"Batch {Sci(batch)} tokens exceeds the critical batch {Sci(bCrit)}: extra batch buys few steps (S/S_min = {steps / crit.MinSteps:F2}).");

        return new HyperparameterPlan(p, n, m, cDeep, cBudget, step, deep, lrStep / lrDeep, bStep / bDeep, fittedLrBatch,
            allocations, crit, notes.Select(t => ParameterName.Render(t)).ToArray(), ex) { NoteTexts = notes };
    }

    // The inputs the messages name (PlanInputs' parameters, snake_case).
    private static readonly ParameterName Params = Parameter("params"), NonEmbedding = Parameter("non_embedding_params"),
        Vocab = Parameter("vocab"), DModel = Parameter("d_model"), Layers = Parameter("layers");

    private static string Sci(double v) => v.ToString("0.###e0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Largest model size a plan accepts (non-embedding parameters).</summary>
    public const double MaxParams = 1e15;

    /// <summary>Largest token count a plan accepts.</summary>
    public const double MaxTokens = 1e17;

    private static void Check(PlanInputs p)
    {
        // far beyond any run the laws were fitted on (1e7..1e11 parameters, 1e9..1e13 tokens), yet small enough that
        // every derived number (C = 6 N D, the critical batch, the step count) stays finite
        static void Max(double v, string name, double max)
        {
            if (v > max) throw InputException.Naming($"{Parameter(name)} must be at most {max:0e0}, got {v:G4}: the published laws are fitted far below that");
        }
        Require.Positive(p.Params, "params");
        Require.Positive(p.Tokens, "tokens");
        Max(p.Params, "params", MaxParams);
        Max(p.Tokens, "tokens", MaxTokens);
        if (p.SeqLen <= 0) throw InputException.Naming($"{Parameter("seq_len")} must be > 0, got {p.SeqLen}");
        if (p.Flops is { } c) { Require.Positive(c, "flops"); Max(c, "flops", 6 * MaxParams * MaxTokens); }
        if (p.Batch is { } b) { Require.Positive(b, "batch"); Max(b, "batch", MaxTokens); }
        if (p.Loss is { } l) Require.Positive(l, "loss");
        if (p.Layers is { } nl && nl <= 0) throw InputException.Naming($"{Layers} must be > 0, got {nl}");
        if (p.DModel is { } w && w <= 0) throw InputException.Naming($"{DModel} must be > 0, got {w}");
        if (p.Vocab is { } v && v <= 0) throw InputException.Naming($"{Vocab} must be > 0, got {v}");
        if (p.Vocab is not null && p.DModel is null)
            throw InputException.Naming($"{Vocab} needs {DModel} (the embedding has vocab x d_model parameters); add {DModel}");
        if (p.Layers is not null && p.DModel is null)
            throw InputException.Naming($"{Layers} needs {DModel} (DeepSeek's M = 72 n_layer d_model^2 + 12 n_layer d_model L); add {DModel}");
    }
}
