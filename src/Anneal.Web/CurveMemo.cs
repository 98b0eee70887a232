using System.Runtime.InteropServices;
using Anneal.Laws;

namespace Anneal.Web;

/// <summary>
/// The designer's last predicted curve, so that the next slider move redraws exactly with less work. The multi-power
/// law's loss at step t depends only on the rates of steps 0..t (their compensated prefix sums and the rate changes
/// among them) and on the step where the rate first peaks (where the paper's convention starts counting drops): a
/// point whose rates up to it are unchanged since the last move has the same loss, bit for bit, whatever the other
/// points are. Moving the cooldown or its shape leaves every point before the cooldown so; only the others are
/// evaluated again. At a million steps with the default 9 % warmup, whose 90,000 rate increases every point sums in
/// the reference convention, that is most of an update's work.
/// </summary>
internal sealed class CurveMemo
{
    private string _law = "";
    private int _peak = -1;
    private double[] _eta = [];
    private long[] _at = [];
    private double[] _loss = [];

    /// <summary>Points of the last <see cref="Predict"/> whose loss was reused rather than evaluated (for tests).</summary>
    public int Reused { get; private set; }

    /// <summary>
    /// The loss of <paramref name="law"/> (the parameter vector named <paramref name="lawKey"/>) for rates
    /// <paramref name="eta"/> at steps <paramref name="at"/> (increasing): the law's own evaluation
    /// (<see cref="LossLaw.Predict(LawRun, IReadOnlyList{double})"/>) of the points whose rates changed, the last
    /// curve's values for the others. Not thread-safe: one caller at a time.
    /// </summary>
    public double[] Predict(string lawKey, FittedLaw law, double[] eta, long[] at)
    {
        int peak = checked((int)new LawRun { Name = "", Eta = eta, Steps = [] }.PeakStep);
        long same = lawKey == _law && peak == _peak && eta.Length == _eta.Length && at.AsSpan().SequenceEqual(_at)
            // bitwise: a rate that changed by its sign bit only (-0.0) is a change too
            ? MemoryMarshal.Cast<double, long>(eta.AsSpan()).CommonPrefixLength(MemoryMarshal.Cast<double, long>(_eta.AsSpan()))
            : 0;
        int reuse = 0;
        while (reuse < at.Length && at[reuse] < same) reuse++;
        var loss = new double[at.Length];
        _loss.AsSpan(0, reuse).CopyTo(loss);
        if (reuse < at.Length)
            law.Law.Predict(LawRun.ForSchedule("design", eta, at[reuse..], "designer sliders"), law.Values).CopyTo(loss.AsSpan(reuse));
        // Remember this curve: only the rates past the common prefix need copying.
        if (_eta.Length != eta.Length) { _eta = GC.AllocateUninitializedArray<double>(eta.Length); same = 0; }
        eta.AsSpan((int)same).CopyTo(_eta.AsSpan((int)same));
        (_law, _peak, _at, _loss, Reused) = (lawKey, peak, at, loss, reuse);
        return loss;
    }
}
