using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dynamo.Runtime.EventPlane;
using StackExchange.Redis;

namespace Dynamo.Runtime.StatePlane;

/// <summary><see cref="IStateStore"/> over Redis hashes (<c>dynamo:{ns}:state:{collection}</c>, <c>…:counters:{collection}</c>).</summary>
internal sealed class RedisStateStore(RedisConnection redis, StateKeys keys) : IStateStore
{
    public Task<T?> GetAsync<T>(string collection, string id, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default) =>
        RedisConnection.GuardAsync(async () =>
        {
            var value = await (await Database().ConfigureAwait(false)).HashGetAsync(Documents(collection), id).ConfigureAwait(false);
            return value.IsNull ? default : JsonSerializer.Deserialize((byte[])value!, typeInfo);
        }, $"get {collection}/{id}");

    public Task SetAsync<T>(string collection, string id, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var json = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        return RedisConnection.GuardAsync(
            async () => await (await Database().ConfigureAwait(false)).HashSetAsync(Documents(collection), id, json).ConfigureAwait(false),
            $"set {collection}/{id}");
    }

    public Task<bool> DeleteAsync(string collection, string id, CancellationToken cancellationToken = default) =>
        RedisConnection.GuardAsync(
            async () => await (await Database().ConfigureAwait(false)).HashDeleteAsync(Documents(collection), id).ConfigureAwait(false),
            $"delete {collection}/{id}");

    public Task<IReadOnlyDictionary<string, T>> ListAsync<T>(string collection, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default) =>
        RedisConnection.GuardAsync(async () =>
        {
            var entries = await (await Database().ConfigureAwait(false)).HashGetAllAsync(Documents(collection)).ConfigureAwait(false);
            var result = new Dictionary<string, T>(entries.Length, StringComparer.Ordinal);
            foreach (var entry in entries)
            {
                result[entry.Name!] = JsonSerializer.Deserialize((byte[])entry.Value!, typeInfo)!;
            }

            return (IReadOnlyDictionary<string, T>)result;
        }, $"list {collection}");

    public Task<long> IncrementAsync(string collection, string id, long delta = 1, CancellationToken cancellationToken = default) =>
        RedisConnection.GuardAsync(
            async () => await (await Database().ConfigureAwait(false)).HashIncrementAsync(Counters(collection), id, delta).ConfigureAwait(false),
            $"increment {collection}/{id}");

    public Task<long> IncrementAsync(string collection, string id, long delta, TimeSpan expireAfter, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(expireAfter, TimeSpan.Zero);
        return RedisConnection.GuardAsync(async () =>
        {
            var key = Counters(collection);
            var transaction = (await Database().ConfigureAwait(false)).CreateTransaction();
            var incremented = transaction.HashIncrementAsync(key, id, delta);
            _ = transaction.KeyExpireAsync(key, expireAfter);
            await transaction.ExecuteAsync().ConfigureAwait(false);
            return await incremented.ConfigureAwait(false);
        }, $"increment {collection}/{id}");
    }

    public Task<long> GetCounterAsync(string collection, string id, CancellationToken cancellationToken = default) =>
        RedisConnection.GuardAsync(async () =>
        {
            var value = await (await Database().ConfigureAwait(false)).HashGetAsync(Counters(collection), id).ConfigureAwait(false);
            return value.IsNull ? 0L : (long)value;
        }, $"get counter {collection}/{id}");

    public Task AppendAsync<T>(string log, T value, JsonTypeInfo<T> typeInfo, int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var json = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        return RedisConnection.GuardAsync(async () =>
        {
            var key = Log(log);
            var transaction = (await Database().ConfigureAwait(false)).CreateTransaction();
            _ = transaction.ListLeftPushAsync(key, json);
            _ = transaction.ListTrimAsync(key, 0, maxLength - 1);
            return await transaction.ExecuteAsync().ConfigureAwait(false);
        }, $"append {log}");
    }

    public Task<IReadOnlyList<T>> ReadLogAsync<T>(string log, int count, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return RedisConnection.GuardAsync(async () =>
        {
            var values = await (await Database().ConfigureAwait(false)).ListRangeAsync(Log(log), 0, count - 1).ConfigureAwait(false);
            var result = new List<T>(values.Length);
            foreach (var value in values)
            {
                result.Add(JsonSerializer.Deserialize((byte[])value!, typeInfo)!);
            }

            return (IReadOnlyList<T>)result;
        }, $"read {log}");
    }

    private Task<IDatabase> Database() => redis.DatabaseAsync();

    private string Documents(string collection) => keys.Documents(Subjects.ValidateToken(collection, "collection"));

    private string Log(string log) => keys.Log(Subjects.ValidateToken(log, "log"));

    private string Counters(string collection) => keys.Counters(Subjects.ValidateToken(collection, "collection"));
}
