using static Anneal.ParameterName;

namespace Anneal.Curves;

/// <summary>What a column of a curve file holds.</summary>
internal enum CurveRole { Step = 0, Lr = 1, Loss = 2, ValLoss = 3, GradNorm = 4, Tokens = 5, Epoch = 6 }

/// <summary>
/// Maps header names (or JSON keys) to <see cref="CurveRole"/>s: explicit names from
/// <see cref="CurveReadOptions"/> first, then the usual names written by common trainers
/// (nanoGPT, HF Trainer, Lightning, W&amp;B exports), compared after lower-casing and turning
/// '/', '-', '.' and spaces into '_' (so <c>train/loss</c> matches <c>train_loss</c>).
/// </summary>
internal static class CurveColumns
{
    public const int RoleCount = 7;

    private static readonly string[][] Aliases =
    [
        // The optimizer step before W&B's "_step" (a count of log calls: HF's WandbCallback logs train/global_step
        // beside it), and "epoch" last (Keras' CSVLogger has nothing else; everywhere else it is a fraction or a label).
        ["step", "iter", "global_step", "train_global_step", "trainer_global_step", "_step", "steps", "iteration", "train_step", "train_iter", "it", "epoch"],
        ["lr", "learning_rate", "train_lr", "train_learning_rate", "lr_0", "lr_group_0", "optimizer_lr", "trainer_lr", "lr_abs", "epoch_learning_rate", "epoch_lr"],
        ["loss", "train_loss", "training_loss", "train_lm_loss", "lm_loss", "train_loss_step", "trainer_loss", "loss_train", "train_epoch_loss", "epoch_loss", "train_loss_epoch"],
        ["val_loss", "eval_loss", "valid_loss", "validation_loss", "val_lm_loss", "eval_lm_loss", "test_loss", "loss_val", "loss_validation",
            "val_loss_epoch", "validation_epoch_loss", "val_epoch_loss", "eval_epoch_loss", "valid_epoch_loss"],
        ["grad_norm", "gradnorm", "train_grad_norm", "global_grad_norm", "grad_norm_total"],
        ["tokens", "tokens_seen", "num_tokens", "train_tokens", "total_tokens", "consumed_tokens"],
        // Epochs beside the step (HF's trainer_state.json and W&B's train/epoch: epochs completed, a fraction; Lightning's
        // metrics.csv: the 0-based epoch index), read for where the data starts to repeat (Anneal.Fitting.EpochBoundary);
        // a log whose only step-like column is "epoch" (Keras) has it taken as the step above, and none here.
        ["epoch", "train_epoch", "epochs", "trainer_epoch"],
    ];

    public static string RoleName(CurveRole r) => r switch
    {
        CurveRole.Step => "step",
        CurveRole.Lr => "lr",
        CurveRole.Loss => "loss",
        CurveRole.ValLoss => "val_loss",
        CurveRole.GradNorm => "grad_norm",
        CurveRole.Tokens => "tokens",
        _ => "epoch",
    };

    /// <summary>
    /// The read option that names the column explicitly (<see cref="CurveReadOptions.StepColumn"/> ...), as messages name it:
    /// a parameter (<c>step_col</c>) that a front end renames (the CLI's <c>--step-col</c>).
    /// </summary>
    public static ParameterName ColumnOption(CurveRole r) => Parameter(r switch
    {
        CurveRole.Step => "step_col",
        CurveRole.Lr => "lr_col",
        CurveRole.Loss => "loss_col",
        CurveRole.ValLoss => "val_col",
        CurveRole.GradNorm => "grad_norm_col",
        CurveRole.Tokens => "tokens_col",
        _ => "epoch_col",
    });

    public static string AcceptedNames(CurveRole r) => string.Join(", ", Aliases[(int)r]);

    /// <summary>Index of the first column of <paramref name="names"/> that is a usual name for <paramref name="r"/>; -1 if none.</summary>
    public static int Find(IReadOnlyList<string> names, CurveRole r)
    {
        var normalized = names.Select(Normalize).ToArray();
        foreach (var alias in Aliases[(int)r])
            if (Array.IndexOf(normalized, alias) is var i and >= 0) return i;
        return -1;
    }

    /// <summary>
    /// What to tell about the step column <paramref name="si"/> when it was detected, not named: the optimizer step
    /// taken over W&amp;B's <c>_step</c> (a count of log calls), <c>_step</c> taken for want of another, or epochs.
    /// </summary>
    public static FormattableString? StepNote(IReadOnlyList<string> names, int si, CurveReadOptions o, string file)
    {
        if (si < 0 || Explicit(o, CurveRole.Step) is not null) return null;
        var n = Normalize(names[si]);
        if (n == "_step")
            return $"{file}: the steps are '_step', which W&B counts in log calls, not optimizer steps; if the run logged its optimizer step under another name, give it with {ColumnOption(CurveRole.Step)} NAME";
        if (names.Any(x => Normalize(x) == "_step"))
            return $"{file}: the steps are '{CurveText.Echo(names[si])}' (the trainer's optimizer step), not '_step' (W&B's count of log calls)";
        if (n == "epoch")
            return $"{file}: the steps are epochs (column '{CurveText.Echo(names[si])}', one row per epoch as Keras' CSVLogger writes); laws then count epochs";
        return null;
    }

    /// <summary>A training-loss-like name: holds "loss" and no word of evaluation (val, eval, valid, test).</summary>
    private static bool LooksLikeTrainingLoss(string n)
    {
        if (!n.Contains("loss", StringComparison.Ordinal)) return false;
        foreach (var part in n.Split('_'))
            if (part is "val" or "eval" or "valid" or "validation" or "test" or "evaluation") return false;
        return true;
    }

    public static string Normalize(string name)
    {
        var s = name.Trim().ToLowerInvariant();
        return string.Create(s.Length, s, (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++) dst[i] = src[i] is '/' or '-' or '.' or ' ' ? '_' : src[i];
        });
    }

    private static string? Explicit(CurveReadOptions o, CurveRole r) => r switch
    {
        CurveRole.Step => o.StepColumn,
        CurveRole.Lr => o.LrColumn,
        CurveRole.Loss => o.LossColumn,
        CurveRole.ValLoss => o.ValLossColumn,
        CurveRole.GradNorm => o.GradNormColumn,
        CurveRole.Tokens => o.TokensColumn,
        _ => o.EpochColumn,
    };

    /// <summary>
    /// For each role, the index into <paramref name="names"/> or -1. Throws when step or loss is
    /// missing, or an explicitly named column does not exist; the message lists what was found.
    /// </summary>
    public static int[] Resolve(IReadOnlyList<string> names, CurveReadOptions o, string file, int line, string what = "columns") =>
        Resolve(names, o, file, line, what, null, stepRequired: true);

    /// <summary>
    /// As <see cref="Resolve(IReadOnlyList{string}, CurveReadOptions, string, int, string)"/>, plus fallbacks for names no alias
    /// lists (an LR named after its optimizer, <c>lr-AdamW</c>; a loss-like name when no usual one exists) and, in
    /// <paramref name="notes"/>, the choices a user may want to change: which of several loss-like metrics became the
    /// training loss, and which step column was taken (the optimizer step over W&amp;B's <c>_step</c>, epochs).
    /// With <paramref name="stepRequired"/> false the step is not looked for (logs that store a step with each value).
    /// </summary>
    public static int[] Resolve(IReadOnlyList<string> names, CurveReadOptions o, string file, int line, string what, List<FormattableString>? notes, bool stepRequired)
    {
        if (!stepRequired && o.StepColumn is { } sc)
            throw new CurveFormatException(file, line, null,
                $"the step column was set to '{CurveText.Echo(sc)}', but this log stores the step with each value. Leave out {ColumnOption(CurveRole.Step)}: the steps are read from the log itself.");
        var normalized = names.Select(Normalize).ToArray();
        var map = new int[RoleCount];
        Array.Fill(map, -1);
        var used = new bool[names.Count];
        string Found() => "found " + what + ": " + (names.Count == 0 ? "(none)" : string.Join(", ", names.Take(40).Select(n => "'" + CurveText.Echo(n) + "'")) + (names.Count > 40 ? $" and {names.Count - 40} more" : ""));

        for (int r = 0; r < RoleCount; r++)
        {
            if (Explicit(o, (CurveRole)r) is not { } want) continue;
            int idx = -1;
            for (int i = 0; i < names.Count && idx < 0; i++)
                if (string.Equals(names[i].Trim(), want.Trim(), StringComparison.OrdinalIgnoreCase)) idx = i;
            var nw = Normalize(want);
            for (int i = 0; i < names.Count && idx < 0; i++)
                if (normalized[i] == nw) idx = i;
            if (idx < 0)
                throw new CurveFormatException(file, line, null,
                    $"the {RoleName((CurveRole)r)} column was set to '{CurveText.Echo(want)}' but there is no such column; {Found()}. Pass one of the names found (option {ColumnOption((CurveRole)r)}).");
            map[r] = idx;
            used[idx] = true;
        }
        for (int r = stepRequired ? 0 : 1; r < RoleCount; r++)
        {
            if (map[r] >= 0) continue;
            foreach (var alias in Aliases[r])
            {
                int idx = Array.IndexOf(normalized, alias);
                if (idx >= 0 && !used[idx]) { map[r] = idx; used[idx] = true; break; }
            }
        }
        // An LR column named after its optimizer (Lightning's LearningRateMonitor writes lr-AdamW, lr-SGD/pg1).
        if (map[(int)CurveRole.Lr] < 0)
            for (int i = 0; i < names.Count; i++)
                if (!used[i] && (normalized[i].StartsWith("lr_", StringComparison.Ordinal) || normalized[i].StartsWith("learning_rate_", StringComparison.Ordinal)))
                { map[(int)CurveRole.Lr] = i; used[i] = true; break; }
        // Loss-like names no alias lists ("nll_loss", "loss/total"): the first one, said in a note.
        var lossLike = Enumerable.Range(0, names.Count).Where(i => !used[i] && LooksLikeTrainingLoss(normalized[i])).ToList();
        if (map[(int)CurveRole.Loss] < 0 && lossLike.Count > 0)
        {
            map[(int)CurveRole.Loss] = lossLike[0];
            used[lossLike[0]] = true;
            lossLike.RemoveAt(0);
        }
        if (notes is not null)
        {
            if (map[(int)CurveRole.Loss] is var li and >= 0 && Explicit(o, CurveRole.Loss) is null && lossLike.Count > 0)
            {
                var others = string.Join(", ", lossLike.Take(6).Select(i => "'" + CurveText.Echo(names[i]) + "'")) + (lossLike.Count > 6 ? $" and {lossLike.Count - 6} more" : "");
                notes.Add($"{file}: the training loss is '{CurveText.Echo(names[li])}'; other loss-like {what}: {others}; pick another with {ColumnOption(CurveRole.Loss)} NAME");
            }
            if (stepRequired && StepNote(names, map[(int)CurveRole.Step], o, file) is { } note) notes.Add(note);
        }
        foreach (var required in stepRequired ? new[] { CurveRole.Step, CurveRole.Loss } : [CurveRole.Loss])
        {
            if (map[(int)required] >= 0) continue;
            throw new CurveFormatException(file, line, null,
                $"no {RoleName(required)} column; {Found()}; accepted names for the {RoleName(required)}: {AcceptedNames(required)}. Rename the column in the header or name it explicitly (option {ColumnOption(required)} NAME).");
        }
        return map;
    }
}
