using System.Text.Json.Serialization.Metadata;

namespace Dynamo.Runtime.StatePlane;

/// <summary>
/// Small JSON documents and counters grouped in collections (SLA targets, API keys, usage). Each collection is one
/// Redis hash, so reads of a whole collection are one round trip. Pass source-generated <see cref="JsonTypeInfo{T}"/>.
/// </summary>
public interface IStateStore
{
    Task<T?> GetAsync<T>(string collection, string id, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default);

    Task SetAsync<T>(string collection, string id, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string collection, string id, CancellationToken cancellationToken = default);

    Task<IReadOnlyDictionary<string, T>> ListAsync<T>(string collection, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default);

    /// <summary>Atomically adds <paramref name="delta"/> to a counter and returns the new value.</summary>
    Task<long> IncrementAsync(string collection, string id, long delta = 1, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="IncrementAsync(string, string, long, CancellationToken)"/>, and (re)sets the whole counter collection to expire
    /// after <paramref name="expireAfter"/>: windowed counters (per-minute usage) clean themselves up.
    /// </summary>
    Task<long> IncrementAsync(string collection, string id, long delta, TimeSpan expireAfter, CancellationToken cancellationToken = default);

    Task<long> GetCounterAsync(string collection, string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Prepends <paramref name="value"/> to a capped log (newest first) and trims it to <paramref name="maxLength"/> entries:
    /// bounded histories such as the planner's decisions.
    /// </summary>
    Task AppendAsync<T>(string log, T value, JsonTypeInfo<T> typeInfo, int maxLength, CancellationToken cancellationToken = default);

    /// <summary>The newest <paramref name="count"/> entries of a capped log, newest first.</summary>
    Task<IReadOnlyList<T>> ReadLogAsync<T>(string log, int count, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default);
}
