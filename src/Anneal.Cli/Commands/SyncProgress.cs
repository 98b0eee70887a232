namespace Anneal.Cli.Commands;

/// <summary>
/// Progress reported on the reporting thread, one report at a time and in order: <see cref="Progress{T}"/>
/// would post each report to the thread pool, so lines could arrive late or out of order.
/// </summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _gate = new();

    /// <inheritdoc/>
    public void Report(T value) { lock (_gate) report(value); }
}
