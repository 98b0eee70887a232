using Anneal.Schedules;

namespace Anneal.Design;

/// <summary>A named schedule and its predicted final loss.</summary>
public sealed record Candidate(string Label, Schedule Schedule, double Loss);

/// <summary>The named schedule closest (RMS over steps, relative to peak) to a free optimum.</summary>
public sealed record ClosestNamed(Candidate Candidate, double RmsDistance);
