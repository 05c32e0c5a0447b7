namespace Dynamo.ServiceDefaults.Metrics;

/// <summary>An immutable copy of a measurement's tags, used as a dictionary key for its series.</summary>
internal sealed class MetricTagKey(KeyValuePair<string, object?>[] tags, int hash)
{
    public KeyValuePair<string, object?>[] Tags { get; } = tags;

    public int Hash { get; } = hash;
}

/// <summary>
/// Compares a measurement's tag span with stored keys without copying it, so the hot path
/// (series already known) allocates nothing. Tag order does not matter: the same tags
/// recorded in another order land in the same series.
/// </summary>
internal sealed class MetricTagKeyComparer :
    IEqualityComparer<MetricTagKey>,
    IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, MetricTagKey>
{
    public static readonly MetricTagKeyComparer Instance = new();

    public bool Equals(MetricTagKey? x, MetricTagKey? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && x.Hash == y.Hash && Same(x.Tags, y.Tags));

    public int GetHashCode(MetricTagKey obj) => obj.Hash;

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, MetricTagKey other) =>
        Same(alternate, other.Tags);

    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => HashOf(alternate);

    public MetricTagKey Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) =>
        new(alternate.ToArray(), HashOf(alternate));

    private static int HashOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // A sum of per-tag hashes is independent of order.
        var hash = tags.Length;
        foreach (var tag in tags)
        {
            hash = unchecked(hash + HashCode.Combine(tag.Key, tag.Value));
        }

        return hash;
    }

    private static bool Same(ReadOnlySpan<KeyValuePair<string, object?>> a, ReadOnlySpan<KeyValuePair<string, object?>> b) =>
        a.Length == b.Length && Contains(a, b) && Contains(b, a);

    private static bool Contains(ReadOnlySpan<KeyValuePair<string, object?>> all, ReadOnlySpan<KeyValuePair<string, object?>> some)
    {
        foreach (var wanted in some)
        {
            var found = false;
            foreach (var tag in all)
            {
                if (string.Equals(tag.Key, wanted.Key, StringComparison.Ordinal) && Equals(tag.Value, wanted.Value))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }
}
