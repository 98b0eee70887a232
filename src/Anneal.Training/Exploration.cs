using Anneal.Training.Optim;
using Anneal.Tuning;

namespace Anneal.Training;

/// <summary>
/// One AutoLRS stage's explorations (<see cref="AutoLrsExplore"/>): each candidate trains from the stage's starting
/// state on the batches of the stage's first updates (the batches the stage itself will train on, so candidates are
/// compared on the same data), its cooldown (when asked) on the batches after those and is measured on the fixed
/// validation batches before and after it, and afterwards every parameter and optimizer array and the optimizer's step count are
/// copied back from a snapshot taken before the first candidate, so no exploration leaks into the run.
/// </summary>
internal sealed class Exploration
{
    private readonly IReadOnlyList<Tensor<float>> _params;
    private readonly Optimizer<float> _opt;
    private readonly long _start;
    private readonly Func<long, double, (double Loss, double GradNorm)> _update;
    private readonly Func<long, double> _loss;
    private readonly Func<double> _validate;
    private readonly CancellationToken _cancel;
    private readonly float[][] _saved;
    private readonly long _savedSteps;

    public Exploration(IReadOnlyList<Tensor<float>> parameters, Optimizer<float> opt, long start, Func<long, double, (double Loss, double GradNorm)> update, Func<long, double> loss, Func<double> validate, CancellationToken cancel)
    {
        _params = parameters; _opt = opt; _start = start; _update = update; _loss = loss; _validate = validate; _cancel = cancel;
        _saved = Arrays().Select(a => (float[])a.Clone()).ToArray();
        _savedSteps = opt.StepCount;
    }

    /// <summary>Updates trained by the explorations so far.</summary>
    public long Steps { get; private set; }

    private IEnumerable<float[]> Arrays() => _params.Select(p => p.Data).Concat(_opt.State().Select(s => s.Values));

    /// <summary>
    /// Trains <paramref name="steps"/> updates at <paramref name="lr"/> and, when <paramref name="anneal"/>, another
    /// <paramref name="steps"/> decaying it linearly to 0; returns the losses after 0..steps updates and what the
    /// cooldown took off the validation loss; restores the state.
    /// </summary>
    public AutoLrsProbe Run(double lr, int steps, bool anneal)
    {
        var losses = new List<double>(steps + 1);
        double drop = 0; int cooled = 0;
        try
        {
            bool diverged = false;
            for (int j = 0; j < steps; j++)
            {
                _cancel.ThrowIfCancellationRequested();
                var (lv, gn) = _update(_start + j, lr);
                Steps++;
                losses.Add(lv);
                if (!double.IsFinite(lv)) { diverged = true; break; }
                if (!double.IsFinite(gn)) { losses.Add(double.NaN); diverged = true; break; }
            }
            if (!diverged) losses.Add(_loss(_start + steps));
            if (!diverged && double.IsFinite(losses[^1]) && anneal)
            {
                double before = _validate();
                var cooldown = new Schedules.D2zSchedule(lr, steps);
                for (int j = 0; j < steps && double.IsFinite(drop); j++)
                {
                    _cancel.ThrowIfCancellationRequested();
                    var (lv, gn) = _update(_start + steps + j, cooldown.At(j));
                    Steps++; cooled++;
                    if (!double.IsFinite(lv) || !double.IsFinite(gn)) drop = double.NaN;
                }
                if (double.IsFinite(drop)) drop = before - _validate();
            }
        }
        finally { Restore(); }
        return new AutoLrsProbe(losses, drop, cooled);
    }

    private void Restore()
    {
        int i = 0;
        foreach (var a in Arrays()) _saved[i++].AsSpan().CopyTo(a);
        _opt.StepCount = _savedSteps;
    }
}
