namespace Anneal.Curves;

/// <summary>What a column of a curve file holds.</summary>
internal enum CurveRole { Step = 0, Lr = 1, Loss = 2, ValLoss = 3, GradNorm = 4, Tokens = 5 }

/// <summary>
/// Maps header names (or JSON keys) to <see cref="CurveRole"/>s: explicit names from
/// <see cref="CurveReadOptions"/> first, then the usual names written by common trainers
/// (nanoGPT, HF Trainer, Lightning, W&amp;B exports), compared after lower-casing and turning
/// '/', '-', '.' and spaces into '_' (so <c>train/loss</c> matches <c>train_loss</c>).
/// </summary>
internal static class CurveColumns
{
    public const int RoleCount = 6;

    private static readonly string[][] Aliases =
    [
        ["step", "iter", "_step", "global_step", "steps", "iteration", "train_global_step", "trainer_global_step", "train_step", "train_iter", "it"],
        ["lr", "learning_rate", "train_lr", "train_learning_rate", "lr_0", "lr_group_0", "optimizer_lr", "trainer_lr", "lr_abs"],
        ["loss", "train_loss", "training_loss", "train_lm_loss", "lm_loss", "train_loss_step", "trainer_loss"],
        ["val_loss", "eval_loss", "valid_loss", "validation_loss", "val_lm_loss", "eval_lm_loss", "test_loss"],
        ["grad_norm", "gradnorm", "train_grad_norm", "global_grad_norm", "grad_norm_total"],
        ["tokens", "tokens_seen", "num_tokens", "train_tokens", "total_tokens", "consumed_tokens"],
    ];

    public static string RoleName(CurveRole r) => r switch
    {
        CurveRole.Step => "step",
        CurveRole.Lr => "lr",
        CurveRole.Loss => "loss",
        CurveRole.ValLoss => "val_loss",
        CurveRole.GradNorm => "grad_norm",
        _ => "tokens",
    };

    /// <summary>CLI option that names the column explicitly, for error messages.</summary>
    public static string OptionHint(CurveRole r) => r switch
    {
        CurveRole.Step => "--step-col",
        CurveRole.Lr => "--lr-col",
        CurveRole.Loss => "--loss-col",
        CurveRole.ValLoss => "--val-col",
        _ => "CurveReadOptions",
    };

    public static string AcceptedNames(CurveRole r) => string.Join(", ", Aliases[(int)r]);

    /// <summary>Index of the first column of <paramref name="names"/> that is a usual name for <paramref name="r"/>; -1 if none.</summary>
    public static int Find(IReadOnlyList<string> names, CurveRole r)
    {
        var normalized = names.Select(Normalize).ToArray();
        foreach (var alias in Aliases[(int)r])
            if (Array.IndexOf(normalized, alias) is var i and >= 0) return i;
        return -1;
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
        _ => o.TokensColumn,
    };

    /// <summary>
    /// For each role, the index into <paramref name="names"/> or -1. Throws when step or loss is
    /// missing, or an explicitly named column does not exist; the message lists what was found.
    /// </summary>
    public static int[] Resolve(IReadOnlyList<string> names, CurveReadOptions o, string file, int line, string what = "columns")
    {
        var normalized = names.Select(Normalize).ToArray();
        var map = new int[RoleCount];
        Array.Fill(map, -1);
        var used = new bool[names.Count];
        string Found() => "found " + what + ": " + (names.Count == 0 ? "(none)" : string.Join(", ", names.Select(n => "'" + n + "'")));

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
                    $"the {RoleName((CurveRole)r)} column was set to '{want}' but there is no such column; {Found()}",
                    $"Pass one of the names found (option {OptionHint((CurveRole)r)}).");
            map[r] = idx;
            used[idx] = true;
        }
        for (int r = 0; r < RoleCount; r++)
        {
            if (map[r] >= 0) continue;
            foreach (var alias in Aliases[r])
            {
                int idx = Array.IndexOf(normalized, alias);
                if (idx >= 0 && !used[idx]) { map[r] = idx; used[idx] = true; break; }
            }
        }
        foreach (var required in new[] { CurveRole.Step, CurveRole.Loss })
        {
            if (map[(int)required] >= 0) continue;
            throw new CurveFormatException(file, line, null,
                $"no {RoleName(required)} column; {Found()}; accepted names for the {RoleName(required)}: {AcceptedNames(required)}",
                $"Rename the column in the header or name it explicitly (option {OptionHint(required)} NAME).");
        }
        return map;
    }
}
