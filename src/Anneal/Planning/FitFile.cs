using System.Text.Json;

namespace Anneal.Planning;

/// <summary>Reads a scaling fit's JSON (what <c>anneal scaling fit</c> prints as JSON) back as a <see cref="OwnRunLaws"/>.</summary>
public static class FitFile
{
    public static OwnRunLaws Read(string path)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: fit file not found; write one with `anneal scaling fit RUNS.csv` (its JSON output) into a file");
        JsonElement law;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("law", out law) || law.ValueKind != JsonValueKind.Object)
                throw new InputException($"{path}: no \"law\" object; expected a scaling fit's JSON, as `anneal scaling fit` prints it (a loss-curve law from `anneal fit` is not a scaling fit)");
            law = law.Clone();
        }
        catch (JsonException e)
        {
            throw new InputException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message.Split('.')[0]}; expected a scaling fit's JSON, as `anneal scaling fit` prints it");
        }
        // Fields are snake_case (format anneal-scaling-fit/1); files written before it had camelCase names and no format.
        bool Has(string name) => law.TryGetProperty(name, out _) || law.TryGetProperty(Camel(name), out _);
        double Get(string name)
        {
            if ((!law.TryGetProperty(name, out var v) && !law.TryGetProperty(Camel(name), out v)) || v.ValueKind != JsonValueKind.Number)
                throw new InputException($"{path}: \"law.{name}\" missing or not a number; expected a scaling fit's JSON, as `anneal scaling fit` prints it");
            double x = v.GetDouble();
            if (!double.IsFinite(x)) throw new InputException($"{path}: \"law.{name}\" is not finite");
            return x;
        }
        if (Has("alpha"))
            return new OwnRunLaws(path, Chinchilla: new ChinchillaLaw(Get("e"), Get("a"), Get("b"), Get("alpha"), Get("beta")));
        if (Has("lr_params_exponent"))
            return new OwnRunLaws(path, StepLaw: new StepLaw(Get("lr_coefficient"), Get("lr_params_exponent"), Get("lr_tokens_exponent"), Get("batch_coefficient"), Get("batch_tokens_exponent")));
        throw new InputException($"{path}: \"law\" is neither a Chinchilla fit (alpha, beta, ...) nor a Step Law fit (lr_params_exponent, ...)");
    }

    /// <summary>The camelCase name of a snake_case field (<c>lr_params_exponent</c> is <c>lrParamsExponent</c>).</summary>
    private static string Camel(string snake)
    {
        var parts = snake.Split('_');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }
}
