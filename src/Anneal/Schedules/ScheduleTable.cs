using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Anneal.Schedules;

/// <summary>Writes the rates of steps <c>start .. start + destination.Length - 1</c> into <paramref name="destination"/>.</summary>
public delegate void RateFill(Span<double> destination, long start);

/// <summary>
/// A schedule's rates at steps 0..n-1 written as a table (CSV <c>step,lr</c> or JSON <c>{"lr":[...]}</c>) while
/// they are computed, a block at a time: memory stays a few hundred kilobytes whatever n is (the largest
/// supported table, <see cref="MaxSteps"/> rates, would be 0.8 GB as an array and about 12 GB as a JSON tree).
/// </summary>
public static class ScheduleTable
{
    /// <summary>
    /// The most steps a table may have: 1e8 rates are about 2.5 GB of CSV, already more than any trainer needs
    /// (a trainer that wants more steps takes the spec, not a table).
    /// </summary>
    public const long MaxSteps = 100_000_000;

    /// <summary>The <c>format</c> field of the JSON table (docs/formats.md).</summary>
    public const string Format = "anneal-schedule-sample/1";

    /// <summary>Rates computed and written per block; also how often <c>progress</c> is called.</summary>
    private const int Block = 1 << 16;

    /// <summary>
    /// Writes <c>step,lr</c> and one line per step 0..<paramref name="steps"/>-1 (rates in round-trip form).
    /// <paramref name="progress"/>, when given, is called with the number of steps written after each block.
    /// </summary>
    public static void WriteCsv(Schedule schedule, long steps, TextWriter output, Action<long>? progress = null) =>
        WriteCsv(schedule.Fill, steps, output, progress);

    /// <summary>
    /// As <see cref="WriteCsv(Schedule, long, TextWriter, Action{long})"/> for any source of rates: <paramref name="fill"/>
    /// writes the rates of steps <c>start .. start + destination.Length - 1</c> (a schedule's <see cref="Schedule.Fill"/>,
    /// or a copy out of a table already in memory, <see cref="FromArray"/>).
    /// </summary>
    public static void WriteCsv(RateFill fill, long steps, TextWriter output, Action<long>? progress = null)
    {
        Check(steps);
        output.WriteLine("step,lr");
        var newline = output.NewLine;
        var lr = new double[(int)Math.Min(Block, steps)];
        // one line is at most 20 digits of step, a comma, 24 characters of rate and the newline
        var line = new char[64 + newline.Length];
        for (long start = 0; start < steps; start += lr.Length)
        {
            var span = lr.AsSpan(0, (int)Math.Min(lr.Length, steps - start));
            fill(span, start);
            for (int i = 0; i < span.Length; i++)
            {
                (start + i).TryFormat(line, out int k, default, CultureInfo.InvariantCulture);
                line[k++] = ',';
                span[i].TryFormat(line.AsSpan(k), out int m, "R", CultureInfo.InvariantCulture);
                k += m;
                newline.CopyTo(line.AsSpan(k));
                k += newline.Length;
                output.Write(line, 0, k);
            }
            progress?.Invoke(start + span.Length);
        }
        output.Flush();
    }

    /// <summary>
    /// Writes <c>{"format":"anneal-schedule-sample/1","schedule":{...},"spec":"...","steps":n,"lr":[...]}</c> on one line, numbers as
    /// <see cref="System.Text.Json"/> writes them (the same text a <c>JsonObject</c> of the whole array gives).
    /// <paramref name="progress"/> as for <see cref="WriteCsv(Schedule, long, TextWriter, Action{long})"/>.
    /// </summary>
    public static void WriteJson(Schedule schedule, long steps, TextWriter output, Action<long>? progress = null)
    {
        Check(steps);
        WriteJsonObject(output, w =>
        {
            w.WriteString("format", Format);
            w.WritePropertyName("schedule");
            schedule.ToSpecCall().ToJson().WriteTo(w);
            w.WriteString("spec", schedule.Spec);
            w.WriteNumber("steps", steps);
        }, "lr", schedule.Fill, steps, v => v, progress);
    }

    /// <summary>
    /// Writes the multipliers table of <c>anneal export --format json</c> on one line:
    /// <c>{"format":"anneal-multipliers/1","source":...,"peak_lr":P,"steps":n,"note":...,"multipliers":[lr/P, ...]}</c>,
    /// P the largest rate. Two passes over the rates (the peak first), so nothing of size n is held. Returns P; throws
    /// <see cref="InputException"/> naming <paramref name="source"/> when no rate is above 0.
    /// </summary>
    public static double WriteMultipliersJson(RateFill fill, long steps, string source, TextWriter output)
    {
        Check(steps);
        var lr = new double[(int)Math.Min(Block, steps)];
        double peak = double.NegativeInfinity;
        for (long start = 0; start < steps; start += lr.Length)
        {
            var span = lr.AsSpan(0, (int)Math.Min(lr.Length, steps - start));
            fill(span, start);
            foreach (var v in span) peak = Math.Max(peak, v);
        }
        if (!(peak > 0)) throw new InputException($"{source}: every learning rate is <= 0; nothing to normalise");
        WriteJsonObject(output, w =>
        {
            w.WriteString("format", "anneal-multipliers/1");
            w.WriteString("source", source);
            w.WriteNumber("peak_lr", peak);
            w.WriteNumber("steps", steps);
            w.WriteString("note", "lr(step) = peak_lr * multipliers[min(step, steps - 1)]");
        }, "multipliers", fill, steps, v => v / peak, null);
        return peak;
    }

    /// <summary>A source of rates reading a table already in memory.</summary>
    public static RateFill FromArray(double[] rates) => (destination, start) => rates.AsSpan(checked((int)start), destination.Length).CopyTo(destination);

    /// <summary>
    /// One JSON object on one line: <paramref name="head"/>'s properties, then the array <paramref name="name"/> of
    /// <paramref name="map"/>(rate) for steps 0..n-1, converted a block at a time and passed to <paramref name="output"/>.
    /// </summary>
    private static void WriteJsonObject(TextWriter output, Action<Utf8JsonWriter> head, string name, RateFill fill, long steps, Func<double, double> map, Action<long>? progress)
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var chars = new char[1 << 16];
        void Drain(Utf8JsonWriter w)
        {
            w.Flush();
            // UTF-8 never takes fewer bytes than chars, so a buffer as long as the bytes holds them all
            var bytes = buffer.WrittenSpan;
            if (chars.Length < bytes.Length) chars = new char[bytes.Length];
            output.Write(chars, 0, Encoding.UTF8.GetChars(bytes, chars));
            buffer.ResetWrittenCount();
        }
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            head(w);
            w.WriteStartArray(name);
            var lr = new double[(int)Math.Min(Block, steps)];
            for (long start = 0; start < steps; start += lr.Length)
            {
                var span = lr.AsSpan(0, (int)Math.Min(lr.Length, steps - start));
                fill(span, start);
                foreach (var v in span) w.WriteNumberValue(map(v));
                Drain(w);
                progress?.Invoke(start + span.Length);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            Drain(w);
        }
        output.WriteLine();
        output.Flush();
    }

    private static void Check(long steps)
    {
        if (steps < 1 || steps > MaxSteps)
            throw InputException.Naming($"{ParameterName.Parameter("steps")} must be between 1 and {MaxSteps}, got {steps}");
    }
}
