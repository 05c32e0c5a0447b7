namespace Dynamo.Router.Routing;

/// <summary>Randomness for tie-breaking and sampling, injected so tests and benchmarks can seed it.</summary>
public interface IRandomSource
{
    /// <summary>In [0, 1).</summary>
    double NextDouble();

    /// <summary>In [0, <paramref name="maxExclusive"/>).</summary>
    int Next(int maxExclusive);
}

/// <summary>A seeded source, safe to share between threads.</summary>
public sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();

    public double NextDouble()
    {
        lock (_gate)
        {
            return _random.NextDouble();
        }
    }

    public int Next(int maxExclusive)
    {
        lock (_gate)
        {
            return _random.Next(maxExclusive);
        }
    }
}

/// <summary>The process-wide unseeded source.</summary>
public sealed class SharedRandomSource : IRandomSource
{
    public static SharedRandomSource Instance { get; } = new();

    public double NextDouble() => Random.Shared.NextDouble();

    public int Next(int maxExclusive) => Random.Shared.Next(maxExclusive);
}
