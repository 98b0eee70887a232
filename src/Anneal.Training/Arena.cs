namespace Anneal.Training;

/// <summary>
/// Recycles the activation and gradient buffers of one training step. Inside <c>using (Arena.Begin())</c>, ops
/// take their result, saved-for-backward and gradient arrays from per-length free lists; when the scope ends
/// every array goes back to the lists, and the next step (same shapes) reuses them, so a steady-state step
/// allocates nothing. Without this, each step's tens of megabytes of activations outlive gen-0 collections
/// (the graph keeps them alive until backward) and get copied up the generations, which cost more than the
/// arithmetic. Outside a scope ops allocate normally. Parameters and their gradients never come from the arena.
/// Tensors made inside a scope must not be used after it ends.
/// </summary>
public static class Arena
{
    [ThreadStatic] private static State? _current;

    private sealed class State
    {
        public readonly Dictionary<(Type, int), Stack<Array>> Free = [];
        public readonly List<Array> Used = [];
        public State? Outer;
    }

    private static readonly Dictionary<int, State> Cache = []; // keeps the free lists of the outermost scope alive between steps

    /// <summary>Starts a scope on this thread; dispose it to recycle everything rented inside.</summary>
    public static Scope Begin()
    {
        var s = new State { Outer = _current };
        if (_current is null)
            lock (Cache) { if (Cache.Remove(Environment.CurrentManagedThreadId, out var kept)) { foreach (var kv in kept.Free) s.Free[kv.Key] = kv.Value; } }
        _current = s;
        return new Scope(s);
    }

    /// <summary>Ends a scope started by <see cref="Begin"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly object _state;
        internal Scope(object state) => _state = state;

        public void Dispose()
        {
            var s = (State)_state;
            foreach (var a in s.Used)
            {
                var key = (a.GetType(), a.Length);
                if (!s.Free.TryGetValue(key, out var stack)) s.Free[key] = stack = new Stack<Array>();
                stack.Push(a);
            }
            s.Used.Clear();
            _current = s.Outer;
            if (s.Outer is null) lock (Cache) Cache[Environment.CurrentManagedThreadId] = s;
            else foreach (var kv in s.Free) { if (!s.Outer.Free.TryGetValue(kv.Key, out var st)) s.Outer.Free[kv.Key] = st = new Stack<Array>(); foreach (var a in kv.Value) st.Push(a); }
        }
    }

    /// <summary>Whether a scope is active on this thread.</summary>
    public static bool Active => _current is not null;

    /// <summary>An array of <paramref name="n"/> elements: recycled (contents arbitrary unless <paramref name="clear"/>) inside a scope, new otherwise.</summary>
    internal static T[] Rent<T>(int n, bool clear)
    {
        var s = _current;
        if (s is null) return clear ? new T[n] : GC.AllocateUninitializedArray<T>(n);
        T[] a;
        if (s.Free.TryGetValue((typeof(T[]), n), out var stack) && stack.Count > 0)
        {
            a = (T[])stack.Pop();
            if (clear) Array.Clear(a);
        }
        else a = clear ? new T[n] : GC.AllocateUninitializedArray<T>(n);
        s.Used.Add(a);
        return a;
    }
}
