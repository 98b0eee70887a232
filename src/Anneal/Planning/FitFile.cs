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
        double Get(string name)
        {
            if (!law.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Number)
                throw new InputException($"{path}: \"law.{name}\" missing or not a number; expected a scaling fit's JSON, as `anneal scaling fit` prints it");
            double x = v.GetDouble();
            if (!double.IsFinite(x)) throw new InputException($"{path}: \"law.{name}\" is not finite");
            return x;
        }
        if (law.TryGetProperty("alpha", out _))
            return new OwnRunLaws(path, Chinchilla: new ChinchillaLaw(Get("e"), Get("a"), Get("b"), Get("alpha"), Get("beta")));
        if (law.TryGetProperty("lrParamsExponent", out _))
            return new OwnRunLaws(path, StepLaw: new StepLaw(Get("lrCoefficient"), Get("lrParamsExponent"), Get("lrTokensExponent"), Get("batchCoefficient"), Get("batchTokensExponent")));
        throw new InputException($"{path}: \"law\" is neither a Chinchilla fit (alpha, beta, ...) nor a Step Law fit (lrParamsExponent, ...)");
    }
}
