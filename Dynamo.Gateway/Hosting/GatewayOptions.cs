using System.ComponentModel.DataAnnotations;

namespace Dynamo.Gateway.Hosting;

/// <summary>Settings of the gateway (section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Bearer secret of the admin API (<c>/admin/keys</c>). Required outside Development; never stored.</summary>
    public string? AdminKey { get; set; }

    /// <summary>An API key provisioned into the key store at start (idempotently), so a local cluster works with auth on.</summary>
    public string? DevelopmentKey { get; set; }

    /// <summary>Largest accepted request body; larger ones get 413 before they are read to the end.</summary>
    [Range(1024, 512L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Requests per minute of a key that sets no limit of its own; 0 means unlimited.</summary>
    [Range(0, int.MaxValue)]
    public int DefaultRequestsPerMinute { get; set; } = 600;

    /// <summary>Tokens (prompt + completion) per minute of a key that sets no limit of its own; 0 means unlimited.</summary>
    [Range(0, int.MaxValue)]
    public int DefaultTokensPerMinute { get; set; } = 1_000_000;

    /// <summary>
    /// How often each replica adds its request and token counts to Redis and reads every replica's totals back. A key can
    /// exceed its limits by at most what the other replicas admit for it in one interval.
    /// </summary>
    public TimeSpan LimitSyncInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Diagnostics: answer with a <c>Server-Timing</c> header splitting the gateway's time before the upstream answered into
    /// its stages (key, limits, body, route, upstream). Off by default: it names internals.
    /// </summary>
    public bool ServerTiming { get; set; }

    /// <summary>How long a key lookup is reused; revocations reach other replicas at once over NATS, and within this time without it.</summary>
    public TimeSpan KeyCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the model → router table is re-read even without a change notice.</summary>
    public TimeSpan ModelRefreshInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time to open a connection to one router replica before the next is tried.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a replica that refused a connection is passed over while others are available.</summary>
    public TimeSpan FailedReplicaCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Service whose configured endpoints (<c>services:{name}:http:*</c>) serve models the registry has no card for.</summary>
    public string FallbackRouterService { get; set; } = "router";
}
