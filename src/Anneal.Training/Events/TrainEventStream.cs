using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Anneal.Training;

/// <summary>How one subscriber of a <see cref="TrainEventStream"/> receives events.</summary>
public sealed record TrainSubscriptionOptions
{
    /// <summary>Events buffered for the subscriber (at least 1). Memory is bounded by the sum of the capacities.</summary>
    public int Capacity { get; init; } = 256;

    /// <summary>
    /// What happens when the buffer is full. <see cref="BoundedChannelFullMode.Wait"/> (the default) loses nothing:
    /// training waits for the subscriber, so a subscriber that must see every event (a log writer, a store) should
    /// keep up on average. <see cref="BoundedChannelFullMode.DropOldest"/> never slows training: a live view that
    /// falls behind skips to the newest events.
    /// </summary>
    public BoundedChannelFullMode WhenFull { get; init; } = BoundedChannelFullMode.Wait;

    /// <summary>
    /// Whether the subscriber receives <see cref="CheckpointTaken"/> (each holds a copy of the model and optimizer
    /// state). Off by default; the run captures that state only when some subscriber asks for it.
    /// </summary>
    public bool Checkpoints { get; init; }
}

/// <summary>
/// The event stream of one training run (<see cref="TrainEvent"/>): the trainer publishes, subscribers consume, each
/// on its own thread through its own bounded buffer, so a slow subscriber delays training at most by the time it
/// lets its buffer fill (<see cref="TrainSubscriptionOptions.WhenFull"/>), never by the time it spends per event.
/// <para>
/// Why channels and not <see cref="IObserver{T}"/>: an observer's <c>OnNext</c> runs on the publisher's thread, so a
/// subscriber that writes a file, a database row or a network message would stall the training loop for that long,
/// and bounding memory for a slow observer would have to be built on top. A
/// <see cref="System.Threading.Channels.Channel"/> per subscriber is exactly a bounded, thread-safe queue with a chosen
/// policy when full (wait or drop), read by one task per subscriber; the trainer's side stays one non-blocking write
/// per subscriber while buffers have room.
/// </para>
/// <para>
/// A stream serves one run: <see cref="Trainer.Run(TrainConfig, Data.TextDataset, TrainEventStream, long?, CancellationToken)"/>
/// completes it and waits until every subscriber has handled every event it received, so the subscribers' outputs
/// are complete when the run returns or throws. An exception thrown by a subscriber stops the run at its next event
/// and is rethrown by the run. Subscribe before the run starts.
/// </para>
/// </summary>
public sealed class TrainEventStream
{
    /// <summary>At most this many captured checkpoints exist at once; the trainer waits for the writers beyond it.</summary>
    private const int CheckpointsInFlight = 2;

    private readonly List<Subscription> _subscriptions = [];
    private readonly SemaphoreSlim _checkpointSlots = new(CheckpointsInFlight, CheckpointsInFlight);
    private bool _started, _completed;

    /// <summary>
    /// Adds a subscriber: <paramref name="onEvent"/> is called for each event, in publication order, on a thread of
    /// its own (never concurrently with itself). Options default to <see cref="TrainSubscriptionOptions"/>'s.
    /// </summary>
    public void Subscribe(Action<TrainEvent> onEvent, TrainSubscriptionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        options ??= new TrainSubscriptionOptions();
        if (options.Capacity < 1) throw new ArgumentOutOfRangeException(nameof(options), $"capacity must be >= 1, got {options.Capacity}");
        if (_started) throw new InvalidOperationException("subscribe before the run starts publishing");
        var sub = new Subscription(onEvent, options, this);
        _subscriptions.Add(sub);
        sub.Start();
    }

    /// <summary>True when a subscriber asked for <see cref="CheckpointTaken"/> events.</summary>
    public bool WantsCheckpoints => _subscriptions.Any(s => s.Options.Checkpoints);

    /// <summary>
    /// Hands <paramref name="e"/> to every subscriber that takes it, waiting while a lossless subscriber's buffer is full.
    /// Throws the exception of a subscriber that failed.
    /// </summary>
    internal void Publish(TrainEvent e)
    {
        if (_completed) throw new InvalidOperationException("the stream is complete");
        _started = true;
        ThrowIfFailed();
        bool checkpoint = e is CheckpointTaken;
        foreach (var s in _subscriptions)
        {
            if (checkpoint && !s.Options.Checkpoints) continue;
            if (e is CheckpointTaken c) c.Checkpoint.AddDelivery();
            s.Write(e);
        }
        ThrowIfFailed();
    }

    /// <summary>Waits until fewer than <see cref="CheckpointsInFlight"/> captured checkpoints are still being handled.</summary>
    internal void WaitForCheckpointSlot()
    {
        // Waits in short slices so that a subscriber failing meanwhile stops the run.
        while (!_checkpointSlots.Wait(100)) ThrowIfFailed();
    }

    internal void ReleaseCheckpointSlot() => _checkpointSlots.Release();

    /// <summary>
    /// Ends the stream and waits until every subscriber has handled its events. Rethrows a subscriber's exception
    /// when <paramref name="throwSubscriberError"/> (a run that is already failing keeps its own exception).
    /// </summary>
    internal void Complete(bool throwSubscriberError = true)
    {
        if (_completed) return;
        _completed = true;
        foreach (var s in _subscriptions) s.Complete();
        foreach (var s in _subscriptions) s.Wait();
        if (throwSubscriberError) ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        foreach (var s in _subscriptions)
            if (s.Error is { } error) error.Throw();
    }

    /// <summary>One subscriber: its bounded channel and the task that reads it.</summary>
    private sealed class Subscription(Action<TrainEvent> onEvent, TrainSubscriptionOptions options, TrainEventStream stream)
    {
        private Channel<TrainEvent> _channel = null!;
        private Task _pump = Task.CompletedTask;

        public TrainSubscriptionOptions Options { get; } = options;

        private ExceptionDispatchInfo? _error;

        /// <summary>The handler's exception, set by the pump thread and read by the trainer's.</summary>
        public ExceptionDispatchInfo? Error => Volatile.Read(ref _error);

        public void Start()
        {
            // A dropped checkpoint is handled as far as the memory bound is concerned.
            _channel = Channel.CreateBounded<TrainEvent>(
                new BoundedChannelOptions(Options.Capacity) { FullMode = Options.WhenFull, SingleReader = true, SingleWriter = true },
                dropped => Release(dropped));
            _pump = Task.Factory.StartNew(Pump, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        public void Write(TrainEvent e)
        {
            if (_channel.Writer.TryWrite(e)) return;
            // Full in Wait mode (the drop modes always accept), or completed because the subscriber failed.
            try { _channel.Writer.WriteAsync(e).AsTask().GetAwaiter().GetResult(); }
            catch (ChannelClosedException) { Release(e); }
        }

        public void Complete() => _channel.Writer.TryComplete();

        public void Wait() => _pump.GetAwaiter().GetResult();

        private void Pump()
        {
            var reader = _channel.Reader;
            try
            {
                while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                    while (reader.TryRead(out var e))
                    {
                        try { onEvent(e); }
                        finally { Release(e); }
                    }
            }
            catch (Exception ex)
            {
                Volatile.Write(ref _error, ExceptionDispatchInfo.Capture(ex));
                // No more events for a failed subscriber: the trainer's next write fails over to ThrowIfFailed, and
                // whatever is still queued is released so the checkpoint bound cannot hold the run up.
                _channel.Writer.TryComplete();
                while (reader.TryRead(out var left)) Release(left);
            }
        }

        private void Release(TrainEvent e)
        {
            if (e is CheckpointTaken c) c.Checkpoint.RemoveDelivery(stream);
        }
    }
}
