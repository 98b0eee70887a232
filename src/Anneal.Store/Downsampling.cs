namespace Anneal.Store;

/// <summary>
/// The downsampled views kept beside a metric's raw points: for each level L (0..<see cref="Levels"/>-1) the steps are
/// cut into buckets of <see cref="Width"/>(L) = 16·4^L steps, and each bucket stores its count, minimum and
/// maximum (with their steps) and first and last point (the M4 aggregate). A view of any step range then reads at
/// most about <c>maxPoints</c> bucket rows of one level instead of up to millions of raw points, and folds them
/// into min/max pairs per drawn interval. Buckets are merged on append, so the views are always current. A series
/// keeps only the levels that reduce its point count by a useful factor (<see cref="MinLevel"/>).
/// </summary>
internal static class Downsampling
{
    /// <summary>Number of levels: widths 16 to 16·4^9 ≈ 4.2M steps.</summary>
    public const int Levels = 10;

    /// <summary>Steps per bucket at <paramref name="level"/>.</summary>
    public static long Width(int level) => 16L << (2 * level);

    /// <summary>The M4 aggregate of some points: count, extremes with their steps, first and last point.</summary>
    public struct Agg
    {
        public long N;
        public double Min, Max, FirstValue, LastValue;
        public long MinStep, MaxStep, FirstStep, LastStep;

        public static Agg Of(long step, double value) => new()
        {
            N = 1, Min = value, MinStep = step, Max = value, MaxStep = step,
            FirstStep = step, FirstValue = value, LastStep = step, LastValue = value,
        };

        /// <summary>The aggregate of points sorted by strictly increasing step (at least one).</summary>
        public static Agg Of(ReadOnlySpan<long> steps, ReadOnlySpan<double> values)
        {
            var a = Of(steps[0], values[0]);
            for (int i = 1; i < steps.Length; i++)
            {
                a.N++;
                if (values[i] < a.Min) { a.Min = values[i]; a.MinStep = steps[i]; }
                if (values[i] > a.Max) { a.Max = values[i]; a.MaxStep = steps[i]; }
            }
            a.LastStep = steps[^1];
            a.LastValue = values[^1];
            return a;
        }

        /// <summary>Folds <paramref name="o"/> in (ties keep the earlier step).</summary>
        public void Merge(in Agg o)
        {
            if (o.N == 0) return;
            if (N == 0) { this = o; return; }
            N += o.N;
            if (o.Min < Min || (o.Min == Min && o.MinStep < MinStep)) { Min = o.Min; MinStep = o.MinStep; }
            if (o.Max > Max || (o.Max == Max && o.MaxStep < MaxStep)) { Max = o.Max; MaxStep = o.MaxStep; }
            if (o.FirstStep < FirstStep) { FirstStep = o.FirstStep; FirstValue = o.FirstValue; }
            if (o.LastStep > LastStep) { LastStep = o.LastStep; LastValue = o.LastValue; }
        }
    }

    /// <summary>A bucket's aggregate.</summary>
    public readonly record struct Bucket(int Level, long Index, Agg Agg);

    /// <summary>
    /// The lowest level worth storing for a series of <paramref name="n"/> points between steps <paramref name="first"/>
    /// and <paramref name="last"/>, or <see cref="Levels"/> for none: a level is kept only when it has at most a quarter
    /// as many buckets as there are points (counting every bucket index the span can touch, so the bound holds however
    /// the points are spread). A run logged every 10 steps would otherwise store a level-0 bucket (a dozen columns) per
    /// point, several times its raw size; a view that would read such a level folds the raw points instead, which
    /// costs at most about 4 rows per bucket it replaces. Higher levels have fewer buckets, so the kept levels are
    /// always min..<see cref="Levels"/>-1.
    /// </summary>
    public static int MinLevel(long n, long first, long last)
    {
        for (int l = 0; l < Levels; l++)
            if (4 * (last / Width(l) - first / Width(l) + 1) <= n) return l;
        return Levels;
    }

    /// <summary>
    /// The buckets of levels <paramref name="fromLevel"/>..<paramref name="toLevel"/>-1 (lowest first) for points sorted
    /// by strictly increasing, non-negative step.
    /// </summary>
    public static List<Bucket> Aggregate(ReadOnlySpan<long> steps, ReadOnlySpan<double> values, int fromLevel = 0, int toLevel = Levels)
    {
        var result = new List<Bucket>();
        if (fromLevel >= toLevel) return result;
        if (steps.Length == 0) return result;
        // level 0 from the points, each further level from the one below (a bucket is 4 buckets of the level below)
        var level = new List<Bucket>();
        long w = Width(0);
        var cur = Agg.Of(steps[0], values[0]);
        long index = steps[0] / w;
        for (int i = 1; i < steps.Length; i++)
        {
            long b = steps[i] / w;
            if (b != index) { level.Add(new Bucket(0, index, cur)); index = b; cur = Agg.Of(steps[i], values[i]); }
            else cur.Merge(Agg.Of(steps[i], values[i]));
        }
        level.Add(new Bucket(0, index, cur));
        if (fromLevel == 0) result.AddRange(level);
        for (int l = 1; l < toLevel; l++)
        {
            var up = new List<Bucket>(level.Count / 4 + 1);
            var acc = level[0].Agg;
            long ix = level[0].Index / 4;
            for (int i = 1; i < level.Count; i++)
            {
                long b = level[i].Index / 4;
                if (b != ix) { up.Add(new Bucket(l, ix, acc)); ix = b; acc = level[i].Agg; }
                else acc.Merge(level[i].Agg);
            }
            up.Add(new Bucket(l, ix, acc));
            if (l >= fromLevel) result.AddRange(up);
            level = up;
        }
        return result;
    }

    /// <summary>
    /// The level to read for a view of <paramref name="span"/> steps in <paramref name="intervals"/> drawn intervals:
    /// the coarsest whose buckets still fit in one interval, or -1 when even level 0 is coarser (read raw points).
    /// </summary>
    public static int LevelFor(long span, int intervals)
    {
        long per = span / Math.Max(1, intervals);
        int level = -1;
        for (int l = 0; l < Levels && Width(l) <= per; l++) level = l;
        return level;
    }

    /// <summary>
    /// Folds aggregates (in step order) into <paramref name="intervals"/> equal step intervals of [<paramref name="from"/>,
    /// <paramref name="to"/>] and emits each interval's minimum and maximum, in step order (one point when they coincide).
    /// </summary>
    public static (long[] Steps, double[] Values) MinMax(IReadOnlyList<Agg> aggs, long from, long to, int intervals)
    {
        var steps = new List<long>(2 * intervals);
        var values = new List<double>(2 * intervals);
        double width = Math.Max(1.0, (to - from + 1) / (double)Math.Max(1, intervals));
        int current = -1;
        var acc = default(Agg);
        void Emit()
        {
            if (acc.N == 0) return;
            (long s, double v) a = (acc.MinStep, acc.Min), b = (acc.MaxStep, acc.Max);
            if (a.s > b.s) (a, b) = (b, a);
            steps.Add(a.s); values.Add(a.v);
            if (b.s != a.s) { steps.Add(b.s); values.Add(b.v); }
        }
        foreach (var g in aggs)
        {
            // an aggregate belongs to the interval holding its first point
            int k = (int)Math.Clamp(Math.Floor((g.FirstStep - from) / width), 0, intervals - 1);
            if (k != current) { Emit(); current = k; acc = default; }
            acc.Merge(g);
        }
        Emit();
        return (steps.ToArray(), values.ToArray());
    }
}
