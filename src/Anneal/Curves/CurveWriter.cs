using System.Globalization;
using System.Text.Json;
using Anneal.IO;

namespace Anneal.Curves;

/// <summary>
/// Writes a <see cref="LossCurve"/> atomically (via <see cref="AtomicFile"/>) as CSV
/// (<c>step,lr,loss,val_loss,grad_norm,tokens,epoch</c>, only the columns present, NaN as an empty cell)
/// or as a JSON column object (<c>{"name":..,"schedule":..,"step":[..],"loss":[..]}</c>, NaN as null).
/// Both read back with <see cref="CurveReader.Read"/> to an equal curve (numbers round-trip exactly).
/// </summary>
public static class CurveWriter
{
    private static readonly (string Name, Func<LossCurve, double[]?> Get)[] Columns =
    [
        ("lr", c => c.Lr), ("loss", c => c.Loss), ("val_loss", c => c.ValLoss), ("grad_norm", c => c.GradNorm), ("tokens", c => c.Tokens), ("epoch", c => c.Epochs),
    ];

    /// <summary>Writes CSV with a header; the schedule spec, which CSV cannot hold, is not written.</summary>
    public static void WriteCsv(LossCurve curve, string path) => AtomicFile.WriteText(path, w => WriteCsv(curve, w));

    /// <summary>Writes CSV to a text writer.</summary>
    public static void WriteCsv(LossCurve curve, TextWriter w)
    {
        var cols = Columns.Select(c => (c.Name, Values: c.Get(curve))).Where(c => c.Values is not null).ToArray();
        w.Write("step");
        foreach (var c in cols) { w.Write(','); w.Write(c.Name); }
        w.Write('\n');
        Span<char> buf = stackalloc char[32];
        for (int i = 0; i < curve.Count; i++)
        {
            w.Write(curve.Steps[i].ToString(CultureInfo.InvariantCulture));
            foreach (var c in cols)
            {
                w.Write(',');
                double v = c.Values![i];
                if (double.IsNaN(v)) continue;
                v.TryFormat(buf, out int n, "R", CultureInfo.InvariantCulture);
                w.Write(buf[..n]);
            }
            w.Write('\n');
        }
    }

    /// <summary>Writes the JSON column object.</summary>
    public static void WriteJson(LossCurve curve, string path) =>
        AtomicFile.Write(path, s =>
        {
            using var j = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = false });
            WriteJson(curve, j);
        });

    /// <summary>Writes the JSON column object to a JSON writer.</summary>
    public static void WriteJson(LossCurve curve, Utf8JsonWriter j)
    {
        j.WriteStartObject();
        j.WriteString("name", curve.Name);
        if (curve.ScheduleSpec is { } spec) j.WriteString("schedule", spec);
        j.WriteStartArray("step");
        foreach (var s in curve.Steps) j.WriteNumberValue(s);
        j.WriteEndArray();
        foreach (var (name, get) in Columns)
        {
            if (get(curve) is not { } values) continue;
            j.WriteStartArray(name);
            foreach (var v in values)
                if (double.IsFinite(v)) j.WriteNumberValue(v); else j.WriteNullValue();
            j.WriteEndArray();
        }
        j.WriteEndObject();
        j.Flush();
    }
}
