using Anneal.Specs;

namespace Anneal.Schedules;

/// <summary>
/// A learning-rate schedule: an immutable, pure function of the 0-based optimizer step.
/// Conventions (see docs/schedules.md): step 0 is the first optimizer step; a linear warmup of W
/// steps gives <c>peak * t / W</c> for t &lt; W; decay progress is <c>p = (t - W) / (T - W)</c>.
/// Every schedule has a canonical spec string (<see cref="Spec"/>) and JSON form that parse back to
/// an equal schedule.
/// </summary>
public abstract record Schedule
{
    /// <summary>The learning rate used at optimizer step <paramref name="step"/> (0-based).</summary>
    public abstract double At(long step);

    /// <summary>The learning rate at <paramref name="step"/>; same as <see cref="At"/>.</summary>
    public double this[long step] => At(step);

    /// <summary>
    /// Writes the rates of steps <c>start .. start + destination.Length - 1</c>. Schedules override
    /// this when a whole-range loop is faster than per-step calls; it never allocates.
    /// </summary>
    public virtual void Fill(Span<double> destination, long start = 0)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = At(start + i);
    }

    /// <summary>The rates of steps 0 .. <paramref name="steps"/> - 1.</summary>
    public double[] Sample(int steps)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), "steps must be >= 0");
        // Fill writes every element, so the array need not be zeroed first
        var a = GC.AllocateUninitializedArray<double>(steps);
        Fill(a);
        return a;
    }

    /// <summary>The canonical spec as a parsed call (defaults omitted).</summary>
    public abstract SpecCall ToSpecCall();

    /// <summary>The canonical spec string, e.g. <c>cosine(peak=0.0003, total=24000, warmup=2160)</c>.</summary>
    public string Spec => ToSpecCall().ToString();

    /// <summary>The JSON form: <c>{"type":"cosine","peak":0.0003,...}</c>.</summary>
    public string ToJson() => ToSpecCall().ToJson().ToJsonString();

    /// <summary>Total length when the schedule defines one (e.g. <c>total=T</c>); null for open-ended schedules.</summary>
    public virtual long? Length => null;

    public sealed override string ToString() => Spec;

    /// <summary>Parses a spec string; throws <see cref="SpecException"/> with a precise message on error.</summary>
    public static Schedule Parse(string spec) => ScheduleRegistry.Create(SpecCall.Parse(spec));

    /// <summary>Parses the JSON form.</summary>
    public static Schedule FromJson(string json) => ScheduleRegistry.Create(SpecCall.FromJson(json));
}
