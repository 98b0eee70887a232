using Anneal.Evaluation;
using Anneal.Fitting;
using Anneal.Laws;

namespace Anneal.Tests.Laws;

/// <summary>
/// <see cref="LawFitter.FitDeferred"/> (a fit without its leave-one-run-out refits, and the function that runs them) against
/// the fit that runs them inline (<see cref="LawFitter.Fit"/>): the same numbers bit for bit, and a stack
/// gives its kept candidate the refits its own fit gives.
/// </summary>
public class DeferredRefitsTests
{
    private static void ShouldMatch(FittedLaw deferred, FittedLaw inline)
    {
        deferred.Values.ShouldBe(inline.Values);
        deferred.StdErrors.ShouldBe(inline.StdErrors);
        deferred.Replicates.Length.ShouldBe(inline.Replicates.Length);
        for (int i = 0; i < inline.Replicates.Length; i++) deferred.Replicates[i].ShouldBe(inline.Replicates[i]);
        deferred.CrossValidationLogError.ShouldBe(inline.CrossValidationLogError);
        deferred.Report.Evaluations.ShouldBe(inline.Report.Evaluations);
        deferred.Report.Warnings.ShouldBe(inline.Report.Warnings);
        deferred.Report.Objective.ShouldBe(inline.Report.Objective);
    }

    [Theory]
    [InlineData("momentum(cap=fit)", 1.0)]
    [InlineData("momentum(cap=fit)", 10.0)]   // rates in other units: the refits are converted back as the inline ones are
    [InlineData("mpl(warmup=reference)", 1.0)]   // early-stopped: the refits restart from the initialisation
    public void Deferred_refits_give_the_inline_fit_bit_for_bit(string spec, double lrScale)
    {
        var runs = MplData.Runs("25m", MplData.FitSplit).Select(r => r with { Eta = r.Eta.Select(e => e * lrScale).ToArray() }).ToArray();
        var law = LossLaw.Parse(spec);
        var inline = LawFitter.Fit(law, runs);
        var (fit, refits) = LawFitter.FitDeferred(law, runs, null, null);
        fit.Replicates.ShouldBeEmpty();
        fit.CrossValidationLogError.ShouldBe(0);
        refits.ShouldNotBeNull();
        inline.Replicates.Length.ShouldBe(3);
        ShouldMatch(refits(), inline);
    }

    [Fact]
    public void A_run_that_cannot_be_left_out_gives_the_same_warning_after_the_fits_own()
    {
        // The constant run and one cosine: without the cosine no run decays, so mpl's loss-drop term cannot be refitted.
        var runs = MplData.Runs("25m", ["constant_24000", "cosine_24000"]);
        var law = LossLaw.Parse("mpl");
        var inline = LawFitter.Fit(law, runs);
        inline.Report.Warnings.ShouldContain(w => w.StartsWith("band: no leave-one-out refit without cosine_24000"));
        var (_, refits) = LawFitter.FitDeferred(law, runs, null, null);
        ShouldMatch(refits!(), inline);
    }

    [Fact]
    public void No_refits_are_offered_when_the_options_ask_for_none_or_one_run_is_fitted()
    {
        var runs = MplData.Runs("25m", MplData.FitSplit);
        var law = LossLaw.Parse("momentum(cap=fit)");
        LawFitter.FitDeferred(law, runs, new FitOptions(Jackknife: false), null).Refits.ShouldBeNull();
        LawFitter.FitDeferred(law, runs[..1], null, null).Refits.ShouldBeNull();
    }

    [Fact]
    public void The_stack_gives_its_kept_alternate_the_refits_of_its_own_fit()
    {
        // 400M's published split: an alternate takes the capped law's place (docs/journal/session-11-auto.md; since
        // session 12 `share`, the split's cosine decaying over its whole run); its refits, deferred until that choice, are
        // those of the alternate fitted alone as the stack fits its members.
        var runs = MplData.Runs("400m", MplData.FitSplit);
        var stack = LawFitter.Fit(new AutoLaw(), runs);
        var kept = stack.Members.Single(m => m.Law.Name is "age" or "share");
        var alone = LawFitter.Fit(kept.Law, runs, new FitOptions { KeepBestEvaluated = true });
        kept.Replicates.Length.ShouldBe(3);
        ShouldMatch(kept, alone);
        stack.Members.ShouldNotContain(m => m.Law.Spec == "momentum(cap=fit)");
    }
}
