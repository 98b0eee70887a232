namespace Anneal.Optimization;

/// <summary>
/// Non-increasing sequences inside <c>[lower, upper]</c>: <c>upper &gt;= x_1 &gt;= ... &gt;= x_n &gt;= lower</c>.
/// The projection is antitonic regression by pool-adjacent-violators (Ayer et al. 1955), O(n),
/// followed by clipping to the bounds, which preserves both order and optimality.
/// </summary>
public sealed class MonotoneBox(double lower, double upper) : IFeasibleSet
{
    private double[] _sum = [];
    private int[] _count = [];

    public void Project(Span<double> x)
    {
        int n = x.Length;
        if (_sum.Length < n) { _sum = new double[n]; _count = new int[n]; }
        int blocks = 0;
        for (int i = 0; i < n; i++)
        {
            _sum[blocks] = x[i]; _count[blocks] = 1; blocks++;
            // Non-increasing: a block may not have a larger mean than the block before it.
            while (blocks > 1 && _sum[blocks - 1] * _count[blocks - 2] > _sum[blocks - 2] * _count[blocks - 1])
            {
                _sum[blocks - 2] += _sum[blocks - 1];
                _count[blocks - 2] += _count[blocks - 1];
                blocks--;
            }
        }
        int k = 0;
        for (int b = 0; b < blocks; b++)
        {
            double v = Math.Clamp(_sum[b] / _count[b], lower, upper);
            for (int j = 0; j < _count[b]; j++) x[k++] = v;
        }
    }

    public bool IsBlocked(ReadOnlySpan<double> x, ReadOnlySpan<double> g, int i) => (x[i] <= lower && g[i] > 0) || (x[i] >= upper && g[i] < 0);
}
