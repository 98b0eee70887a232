using System.Text.Json.Serialization;

namespace Anneal.Fitting;

/// <summary>
/// A parameter a fit holds at <see cref="Value"/> instead of fitting it, because the data cannot determine it
/// (e.g. a decay term from constant-LR runs only, or a size exponent from one model size), and why. One concept for
/// the loss-curve laws (<see cref="Anneal.Laws.LossLaw.NonIdentifiable"/>) and the scaling-law fits (<c>Anneal.Planning</c>).
/// </summary>
/// <param name="Name">The parameter as reports name it.</param>
/// <param name="Value">The value it is held at.</param>
/// <param name="Reason">Why the data cannot determine it, and where the value comes from.</param>
public sealed record HeldParameter(string Name, double Value, string Reason)
{
    /// <summary>Its position in the fitted law's parameter vector (a loss-curve law's <see cref="Anneal.Laws.LossLaw.Parameters"/>); -1 when the fit names it only.</summary>
    [JsonIgnore]
    public int Index { get; init; } = -1;
}
