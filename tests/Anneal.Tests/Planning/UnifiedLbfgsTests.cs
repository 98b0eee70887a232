using Anneal.Optimization;
using Anneal.Planning;

namespace Anneal.Tests.Planning;

/// <summary>
/// The planning fits' L-BFGS is Anneal's one projected L-BFGS run without a feasible set, with the Chinchilla
/// fit's settings (halving line search): closed-form minima, with and without a domain enforced by +inf.
/// </summary>
public class UnifiedLbfgsTests
{
    [Fact]
    public void Planning_lbfgs_finds_the_rosenbrock_minimum()
    {
        // Closed form: f = (1 - a)^2 + 100 (b - a^2)^2 has its only minimum at (1, 1), f = 0.
        var opt = new LbfgsWorkspace(2, ChinchillaFit.Solver.Memory);
        double[] x = [-1.2, 1.0];
        var r = opt.Minimize((p, g) =>
        {
            double a = p[0], b = p[1];
            g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
            g[1] = 200 * (b - a * a);
            return (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a);
        }, x, null, ChinchillaFit.Solver);
        r.Converged.ShouldBeTrue();
        x[0].ShouldBe(1, 1e-6); x[1].ShouldBe(1, 1e-6);
        r.Value.ShouldBeLessThan(1e-12);
    }

    [Fact]
    public void Planning_lbfgs_steps_back_from_an_infinite_objective()
    {
        // f = x - ln x for x > 0, +inf elsewhere: minimum at x = 1, f = 1. From x = 5 the first
        // gradient step (-g/|g| capped at 1... here g = 0.8) overshoots nowhere, later ones may.
        var opt = new LbfgsWorkspace(1, ChinchillaFit.Solver.Memory);
        foreach (var x0 in new[] { 5.0, 0.01, 40.0 })
        {
            double[] x = [x0];
            var r = opt.Minimize((p, g) =>
            {
                if (!(p[0] > 0)) { g[0] = 0; return double.PositiveInfinity; }
                g[0] = 1 - 1 / p[0];
                return p[0] - Math.Log(p[0]);
            }, x, null, ChinchillaFit.Solver);
            r.Converged.ShouldBeTrue();
            x[0].ShouldBe(1, 1e-6, $"from {x0}");
            r.Value.ShouldBe(1, 1e-12);
        }
    }

    [Fact]
    public void Projected_lbfgs_stops_on_the_box_face_of_a_quadratic()
    {
        // min (x - 2)^2 + (y + 1)^2 over [0, 1] x [0, 1]: the projection of (2, -1), i.e. (1, 0), f = 2.
        var r = ProjectedLbfgs.Minimize((p, g) =>
        {
            g[0] = 2 * (p[0] - 2); g[1] = 2 * (p[1] + 1);
            return (p[0] - 2) * (p[0] - 2) + (p[1] + 1) * (p[1] + 1);
        }, [0.5, 0.5], [0.0, 0.0], [1.0, 1.0]);
        r.Converged.ShouldBeTrue();
        r.X[0].ShouldBe(1, 1e-12); r.X[1].ShouldBe(0, 1e-12);
        r.Value.ShouldBe(2, 1e-12);
    }
}
