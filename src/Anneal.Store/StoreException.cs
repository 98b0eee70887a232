namespace Anneal.Store;

/// <summary>
/// The store cannot be used as given: a location that is not a SQLite file nor a PostgreSQL URL, a server that cannot
/// be reached or refuses the login, a file that is not an Anneal store, a store written by a newer Anneal. The message
/// names the location (never its password) and the fix. It is bad input (<see cref="InputException"/>).
/// </summary>
public sealed class StoreException(string message, Exception? inner = null) : InputException(message)
{
    /// <summary>The underlying provider error, when any.</summary>
    public Exception? Cause { get; } = inner;
}
