using Anneal.Laws;
using Shouldly;
using Xunit;

namespace Anneal.Tests.Laws;

/// <summary>The auto stack's forecast at a step drop of the rate (docs/journal/session-14-auto-step-drop.md).</summary>
public class StackStepDropTests
{
    [Fact]
    public void The_stack_forecast_does_not_rise_after_a_10x_step_drop()
    {
        // The stack at the prior weight of its convex member (0.3, beside the momentum law's 0.7), both fitted to
        // momentum-law runs, forecasts a constant run whose rate drops 10x at step 600, at every step from 560 to 700.
        // The convex bound jumps at the drop (its last-iterate term for k = T-1 carries eta_599 / eta_600 = 10) and the
        // raw weighted mix rises with it: checked below from the members' own forecasts, or the test shows nothing.
        // The rule: no point from step 600 on is above the forecast at step 599, with no tolerance: each member's term
        // there is at most its term at step 599 (held at that very value, or below it), the terms are added in the same
        // order, and rounded addition is monotone, so the sum cannot exceed step 599's, not even by rounding.
        var (mom, cvx, fit, target) = StackBandTests.StepDrop(0.3, 700);
        var stack = (AutoLaw)fit.Law;
        var steps = target.Steps;
        double[] lc = cvx.Law.Predict(target, cvx.Values), lm = mom.Law.Predict(target, mom.Values);
        var raw = steps.Select((_, i) => 0.7 * lm[i] + 0.3 * lc[i]).ToArray();
        int at = Array.IndexOf(steps, 600L);
        (raw[at] / raw[at - 1] - 1).ShouldBeGreaterThan(0.001);   // the unheld mix rises at the drop (what the stack did before)

        // Both places the stack's forecast is made: its own evaluation (AutoLaw) and the fitted law's prediction with its band.
        var evaluated = stack.Predict(target, fit.Values);
        var predicted = fit.Predict(target).Loss;
        for (int i = 0; i < steps.Length; i++) predicted[i].ShouldBe(evaluated[i], 1e-12, $"step {steps[i]}");
        for (int i = at; i < steps.Length; i++) evaluated[i].ShouldBeLessThanOrEqualTo(evaluated[at - 1], $"step {steps[i]}");
        // Before the drop and once the convex bound is back below its value before it, nothing is held: the raw mix.
        for (int i = 0; i < at; i++) evaluated[i].ShouldBe(raw[i], 1e-12, $"step {steps[i]}");
        evaluated[^1].ShouldBe(raw[^1], 1e-12);

        // The parameters' Jacobian stays exact through the hold: central differences, at points held and not.
        LawMathTests.JacobianMatchesCentralDifferences(stack, stack.Prepare(target), fit.Values, steps);
    }
}
