using System.ComponentModel.DataAnnotations;
using Dynamo.Router.Routing.Policies;

namespace Dynamo.Router.Routing;

/// <summary>Routing settings (section <c>Router:Routing</c>). Defaults follow DESIGN.md §3 and Dynamo's router.</summary>
public sealed class KvRoutingOptions
{
    public const string Section = "Router:Routing";

    /// <summary>Policy used when a request names none (<see cref="RoutingPolicies"/>).</summary>
    [Required]
    public string Policy { get; set; } = RoutingPolicies.KvAware;

    /// <summary>Weight of prefill work against decode load in the kv_aware cost; 0 ignores the cache.</summary>
    [Range(0, 1000)]
    public double OverlapScoreWeight { get; set; } = 1;

    /// <summary>0 picks the cheapest worker; above 0 samples with softmax over normalized costs.</summary>
    [Range(0, 1000)]
    public double Temperature { get; set; }

    /// <summary>How much a host-tier (G2) hit saves compared with a device hit.</summary>
    [Range(0, 1)]
    public double HostTierWeight { get; set; } = 0.75;

    /// <summary>How much a disk-tier (G3) hit saves compared with a device hit.</summary>
    [Range(0, 1)]
    public double DiskTierWeight { get; set; } = 0.25;

    /// <summary>An active sequence never reported finished is dropped after this long (a lost stream must not count forever).</summary>
    public TimeSpan ActiveSequenceStaleAfter { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>Comma-separated worker engines that publish no KV events; the router assumes what it sent them is cached.</summary>
    public string ApproximateEngines { get; set; } = "openai";

    /// <summary>How long approximate mode assumes a routed prefix stays cached.</summary>
    public TimeSpan ApproximateTtl { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Blocks approximate mode remembers per worker (oldest forgotten first).</summary>
    [Range(1, int.MaxValue)]
    public int ApproximateMaxBlocksPerWorker { get; set; } = 65_536;

    /// <summary>A worker at or above this KV usage (reported, or router-tracked active blocks / capacity) is busy; above 1 disables.</summary>
    [Range(0.01, 100)]
    public double BusyThreshold { get; set; } = 0.95;

    /// <summary>Requests that may wait for a worker to stop being busy; beyond this they are shed at once.</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>How long a queued request waits before it is shed.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The Retry-After a shed request is told.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Reported load older than this is ignored (the worker may be gone or its metrics stuck).</summary>
    public TimeSpan MetricsMaxAge { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for a worker's KV dump.</summary>
    public TimeSpan DumpTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>After a failed dump, how long before a new gap may ask again.</summary>
    public TimeSpan DumpRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Write the index to Redis so a restarted router routes well at once.</summary>
    public bool SnapshotEnabled { get; set; } = true;

    /// <summary>How often the snapshot is written (it is also written at shutdown).</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>State-store collection of the snapshot; routers of different models need different ones.</summary>
    [Required]
    public string SnapshotCollection { get; set; } = "kv-index";

    /// <summary>Seed of the tie-breaking / sampling random source; null uses a shared unseeded one.</summary>
    public int? Seed { get; set; }

    internal HashSet<string> ApproximateEngineSet() =>
        new(ApproximateEngines.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
}
