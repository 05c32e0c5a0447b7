using System.Collections.Concurrent;
using System.Text;
using Dynamo.Gateway.Api;
using Dynamo.Gateway.Hosting;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Gateway.Keys;

/// <summary>
/// API keys in the state plane, looked up by the hash of the presented secret. Lookups are cached for
/// <see cref="GatewayOptions.KeyCacheDuration"/>; creating or revoking a key publishes its hash on NATS so every
/// gateway replica drops that entry at once (the cache duration bounds staleness when NATS is away).
/// </summary>
internal sealed partial class ApiKeyStore(
    IStateStore store,
    IEventPlane events,
    IOptions<DynamoRuntimeOptions> runtime,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<ApiKeyStore> logger) : IHostedService
{
    public const string Collection = "api-keys";

    /// <summary>Entries before the cache is dropped whole; bounds memory under a flood of made-up keys.</summary>
    private const int MaxCachedKeys = 100_000;

    private readonly ConcurrentDictionary<string, CacheEntry> _cache = new(StringComparer.Ordinal);
    private readonly string _subject = Subjects.ApiKeysChanged(runtime.Value.Namespace);
    private IAsyncDisposable? _subscription;

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _subscription = await events.SubscribeAsync(_subject, (message, _) =>
        {
            _cache.TryRemove(Encoding.UTF8.GetString(message.Data.Span), out var _);
            return ValueTask.CompletedTask;
        }, cancellationToken: cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }
    }

    /// <summary>The live (not revoked) key whose secret is <paramref name="secret"/>, or null.</summary>
    /// <exception cref="StatePlaneUnavailableException">Redis is unreachable and the key is not cached.</exception>
    public async ValueTask<ApiKeyRecord?> FindAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = ApiKeySecrets.Hash(secret);
        var now = time.GetTimestamp();
        if (_cache.TryGetValue(hash, out var cached) && now < cached.ExpiresAt)
        {
            return cached.Record;
        }

        var record = await store.GetAsync(Collection, hash, GatewayJsonContext.Default.ApiKeyRecord, cancellationToken);
        var live = record is { IsRevoked: false } ? record : null;
        if (_cache.Count >= MaxCachedKeys)
        {
            _cache.Clear();
        }

        var ttl = (long)(options.Value.KeyCacheDuration.TotalSeconds * time.TimestampFrequency);
        _cache[hash] = new CacheEntry(live, now + ttl);
        return live;
    }

    public async Task<CreatedKey> CreateAsync(CreateKeyRequest request, CancellationToken cancellationToken)
    {
        var secret = ApiKeySecrets.NewSecret();
        var record = new ApiKeyRecord(
            ApiKeySecrets.NewId(),
            string.IsNullOrWhiteSpace(request.Name) ? "unnamed" : request.Name.Trim(),
            ApiKeySecrets.DisplayPrefix(secret),
            ApiKeySecrets.Hash(secret),
            time.GetUtcNow(),
            request.RequestsPerMinute,
            request.TokensPerMinute);
        await store.SetAsync(Collection, record.Hash, record, GatewayJsonContext.Default.ApiKeyRecord, cancellationToken);
        // A replica may have cached "unknown" for this hash moments ago (a client trying the key early).
        await InvalidateAsync(record.Hash, cancellationToken);
        LogCreated(logger, record.Id, record.Name);
        return new CreatedKey(secret, record.ToInfo());
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListAsync(CancellationToken cancellationToken)
    {
        var all = await store.ListAsync(Collection, GatewayJsonContext.Default.ApiKeyRecord, cancellationToken);
        return [.. all.Values.OrderBy(r => r.Created).Select(r => r.ToInfo())];
    }

    /// <summary>Marks the key revoked; false when no key has that id.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        var all = await store.ListAsync(Collection, GatewayJsonContext.Default.ApiKeyRecord, cancellationToken);
        var record = all.Values.FirstOrDefault(r => r.Id == id);
        if (record is null)
        {
            return false;
        }

        if (!record.IsRevoked)
        {
            await store.SetAsync(Collection, record.Hash, record with { Revoked = time.GetUtcNow() }, GatewayJsonContext.Default.ApiKeyRecord, cancellationToken);
            LogRevoked(logger, record.Id);
        }

        await InvalidateAsync(record.Hash, cancellationToken);
        return true;
    }

    /// <summary>Stores <paramref name="secret"/> as a key unless it already is one (revoked keys stay revoked).</summary>
    public async Task<bool> ProvisionAsync(string secret, string id, string name, CancellationToken cancellationToken)
    {
        var hash = ApiKeySecrets.Hash(secret);
        if (await store.GetAsync(Collection, hash, GatewayJsonContext.Default.ApiKeyRecord, cancellationToken) is not null)
        {
            return false;
        }

        var record = new ApiKeyRecord(id, name, ApiKeySecrets.DisplayPrefix(secret), hash, time.GetUtcNow(), null, null);
        await store.SetAsync(Collection, hash, record, GatewayJsonContext.Default.ApiKeyRecord, cancellationToken);
        await InvalidateAsync(hash, cancellationToken);
        return true;
    }

    private async Task InvalidateAsync(string hash, CancellationToken cancellationToken)
    {
        _cache.TryRemove(hash, out _);
        try
        {
            await events.PublishAsync(_subject, Encoding.UTF8.GetBytes(hash), cancellationToken);
        }
        catch (EventPlaneUnavailableException ex)
        {
            // Other replicas catch up when their cached entry expires.
            LogInvalidationNotPublished(logger, ex.Message);
        }
    }

    private readonly record struct CacheEntry(ApiKeyRecord? Record, long ExpiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {Id} ({Name}) created")]
    private static partial void LogCreated(ILogger logger, string id, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {Id} revoked")]
    private static partial void LogRevoked(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key change not announced to other gateways (they see it within the cache duration): {Reason}")]
    private static partial void LogInvalidationNotPublished(ILogger logger, string reason);
}
