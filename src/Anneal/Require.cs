namespace Anneal;

/// <summary>Checks of a request's numeric parameters that many requests share; each throws <see cref="InputException"/> naming the parameter.</summary>
internal static class Require
{
    /// <summary>Throws unless <paramref name="value"/> is a finite number &gt; 0.</summary>
    public static void Positive(double value, string parameter)
    {
        if (!double.IsFinite(value) || value <= 0)
            throw InputException.Naming($"{ParameterName.Parameter(parameter)} must be a finite number > 0, got {value}");
    }

    /// <summary>Throws unless <paramref name="value"/> is &gt;= 0 (a count such as bootstrap resamples).</summary>
    public static void NotNegative(long value, string parameter)
    {
        if (value < 0) throw InputException.Naming($"{ParameterName.Parameter(parameter)} must be >= 0, got {value}");
    }

    /// <summary>Throws unless <paramref name="value"/> is in (0, 1) (a confidence level).</summary>
    public static void Level(double value, string parameter)
    {
        if (!(value > 0 && value < 1)) throw InputException.Naming($"{ParameterName.Parameter(parameter)} must be in (0, 1), got {value}");
    }
}
