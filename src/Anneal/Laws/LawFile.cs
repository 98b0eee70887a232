using System.Text.Json.Nodes;

namespace Anneal.Laws;

/// <summary>
/// The one reader of law files. A file written by <c>anneal fit</c> (<see cref="FittedLaw.Format"/>) is read by
/// <see cref="FittedLaw.FromJson"/>, which checks every field; a hand-written multi-power law (its seven values by
/// name or in the paper's order, optionally a 7 x 7 covariance and a warmup convention) becomes a fitted law of
/// <see cref="MultiPowerLaw"/> with those values. The writer is <see cref="FittedLaw.ToJson"/>.
/// </summary>
public static class LawFile
{
    /// <summary>
    /// Reads the law in <paramref name="json"/>; <paramref name="where"/> names it in messages. Bad input is an
    /// <see cref="InputException"/> naming the file and the field.
    /// </summary>
    public static FittedLaw Read(string json, string where)
    {
        JsonObject? o = null;
        try { o = JsonNode.Parse(json) as JsonObject; }
        catch (System.Text.Json.JsonException e) { throw new InputException($"{where}: not valid JSON ({e.Message}); write the law file with 'anneal fit', or by hand as {{\"law\":\"mpl\",\"params\":{{\"L0\":2.37,...}}}}"); }
        if (o is null) throw new InputException($"{where}: a law file must be a JSON object");
        if (o["format"] is not null || o["law_spec"] is JsonObject) return FittedLaw.FromJson(json, where);
        var values = HandWrittenValues(o, where);
        double[][]? cov = null;
        if (o["covariance"] is JsonArray cj && cj.Count == 7)
        {
            cov = new double[7][];
            for (int i = 0; i < 7; i++)
            {
                if (cj[i] is not JsonArray row || row.Count != 7) throw new InputException($"{where}: \"covariance\" must be a 7 x 7 array");
                cov[i] = row.Select((x, j) => Num(x, where, $"covariance[{i}][{j}]")).ToArray();
            }
        }
        // A file without a covariance has none: zeros, like published values (no band, and none missing).
        cov ??= Enumerable.Range(0, 7).Select(_ => new double[7]).ToArray();
        var convention = WarmupConventions.TryParse(o["warmup_convention"]?.ToString())
            ?? ((o["law"]?.ToString() ?? "").Contains("reference", StringComparison.OrdinalIgnoreCase) ? WarmupConvention.Reference : WarmupConvention.Paper);
        var se = cov.Select((row, i) => Math.Sqrt(Math.Max(0, row[i]))).ToArray();
        return new FittedLaw(new MultiPowerLaw(convention), values.ToArray(), se, cov, new FitReport());
    }

    /// <summary>
    /// The seven values of a hand-written multi-power law: an object with an "mpl" law name (or none) and a
    /// "params"/"parameters"/"values" member holding them, as an object by name, an array in the paper's order,
    /// or the law file's list of named entries.
    /// </summary>
    private static MplParameters HandWrittenValues(JsonObject o, string where)
    {
        var kind = (o["law"] ?? o["type"] ?? o["name"] ?? o["kind"])?.ToString();
        if (kind is not null && !kind.StartsWith("mpl", StringComparison.OrdinalIgnoreCase) && !kind.Contains("multi", StringComparison.OrdinalIgnoreCase))
            throw new InputException($"{where}: law '{kind}' is not the multi-power law; schedule design needs an MPL law (fit one with kind mpl, or use mpl-400m)");
        var p = o["params"] ?? o["parameters"] ?? o["values"];
        if (p is null) throw new InputException($"{where}: missing \"params\" (the seven MPL parameters L0, A, alpha, B, C, beta, gamma)");
        double[] v = new double[7];
        if (p is JsonArray named && named.Count > 0 && named[0] is JsonObject)
        {
            // The fitted-law format (anneal-law/1): [{"name": "L0", "value": ...}, ...].
            for (int i = 0; i < 7; i++)
            {
                var item = named.OfType<JsonObject>().FirstOrDefault(x => string.Equals(x["name"]?.ToString(), MplParameters.Names[i], StringComparison.Ordinal))
                    ?? throw new InputException($"{where}: \"parameters\" lacks an entry named \"{MplParameters.Names[i]}\"");
                v[i] = Num(item["value"], where, MplParameters.Names[i]);
            }
        }
        else if (p is JsonArray arr)
        {
            if (arr.Count != 7) throw new InputException($"{where}: \"params\" must list 7 numbers [L0, A, alpha, B, C, beta, gamma], got {arr.Count}");
            for (int i = 0; i < 7; i++) v[i] = Num(arr[i], where, MplParameters.Names[i]);
        }
        else if (p is JsonObject po)
        {
            for (int i = 0; i < 7; i++)
            {
                var node = po.FirstOrDefault(kv => string.Equals(kv.Key, MplParameters.Names[i], StringComparison.Ordinal)).Value
                           ?? po.FirstOrDefault(kv => string.Equals(kv.Key, MplParameters.Names[i], StringComparison.OrdinalIgnoreCase)).Value;
                if (node is null) throw new InputException($"{where}: \"params\" lacks \"{MplParameters.Names[i]}\"");
                v[i] = Num(node, where, MplParameters.Names[i]);
            }
        }
        else throw new InputException($"{where}: \"params\" must be an object or an array of 7 numbers");
        return new MplParameters(v[0], v[1], v[2], v[3], v[4], v[5], v[6]).Validate(where);
    }

    private static double Num(JsonNode? n, string where, string name)
    {
        if (n is JsonObject vo && vo["value"] is { } inner) n = inner;
        return n is JsonValue jv && jv.TryGetValue<double>(out var d) ? d : throw new InputException($"{where}: parameter {name} must be a number, got {n?.ToJsonString() ?? "null"}");
    }
}
