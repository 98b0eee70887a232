namespace Anneal.Training;

/// <summary>
/// Training stopped because the loss or gradient became NaN or infinite. <see cref="Reason"/> says what diverged and
/// where; <see cref="Advice"/> how to avoid it; the message joins them (with where the log is, when one was written).
/// The advice names the run's parameters (<c>schedule</c>, <c>clip</c>), which a front end renames
/// (<see cref="InputException.MessageNaming"/>).
/// </summary>
public sealed class TrainingDivergedException : InputException
{
    private readonly FormattableString _advice;

    /// <summary>Divergence described by <paramref name="reason"/>, avoided as <paramref name="advice"/> says (its <see cref="ParameterName"/> holes name parameters).</summary>
    public TrainingDivergedException(string reason, FormattableString advice, string? logNote = null)
        : base(Joined(logNote is null ? $"{reason}. " : $"{reason}. {logNote} ", advice))
    {
        Reason = reason;
        _advice = advice;
    }

    /// <summary>What diverged, e.g. "training diverged at step 12: gradient norm is NaN (lr 3E+30)".</summary>
    public string Reason { get; }

    /// <summary>How to avoid it, naming the run's parameters (<c>schedule</c>, <c>clip</c>).</summary>
    public string Advice => FormattableString.Invariant(_advice);

    /// <summary>The same divergence, saying where the log up to it is.</summary>
    public TrainingDivergedException WithLogNote(string logNote) => new(Reason, _advice, logNote);
}
