using System.Text.Json.Serialization;

namespace Dynamo.Runtime.Contracts;

/// <summary>
/// The operator's service-level targets and replica bounds, kept in the state plane (collection <see cref="Collection"/>,
/// id <see cref="DefaultId"/>), edited from Admin, applied by the planner. A change is announced on
/// <c>dynamo.{ns}.sla.changed</c> (the planner also re-reads it every interval).
/// </summary>
public sealed record SlaConfig(
    double TtftMs,
    double ItlMs,
    IReadOnlyDictionary<string, PoolBounds> Pools,
    int? WorkerBudget = null,
    DateTimeOffset? UpdatedAt = null,
    string? UpdatedBy = null)
    : IVersionedContract
{
    public const string Collection = "sla";

    public const string DefaultId = "default";

    /// <summary>Pool names, as the planner and Admin use them: one per scaled worker role.</summary>
    public static readonly IReadOnlyList<string> PoolNames = ["aggregated", "prefill", "decode"];

    public const double MaxTtftMs = 600_000;

    public const double MaxItlMs = 60_000;

    public const int MaxReplicas = 64;

    public static int CurrentVersion => 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = CurrentVersion;

    /// <summary>Targets the planner uses when nothing is stored yet.</summary>
    public static SlaConfig Default { get; } = new(
        TtftMs: 500,
        ItlMs: 50,
        Pools: new Dictionary<string, PoolBounds>(StringComparer.Ordinal)
        {
            ["aggregated"] = new(1, 4),
            ["prefill"] = new(1, 4),
            ["decode"] = new(1, 4),
        });

    /// <summary>Every problem with this configuration as (field, message); empty when it is valid.</summary>
    public IReadOnlyList<(string Field, string Message)> Validate()
    {
        var errors = new List<(string, string)>();
        if (!double.IsFinite(TtftMs) || TtftMs <= 0 || TtftMs > MaxTtftMs)
        {
            errors.Add(("ttftMs", $"The TTFT target must be a positive number of milliseconds up to {MaxTtftMs:0} (was {TtftMs})."));
        }

        if (!double.IsFinite(ItlMs) || ItlMs <= 0 || ItlMs > MaxItlMs)
        {
            errors.Add(("itlMs", $"The ITL target must be a positive number of milliseconds up to {MaxItlMs:0} (was {ItlMs})."));
        }

        if (WorkerBudget is { } budget && (budget < 1 || budget > MaxReplicas * PoolNames.Count))
        {
            errors.Add(("workerBudget", $"The worker budget must be between 1 and {MaxReplicas * PoolNames.Count} (was {budget})."));
        }

        foreach (var (pool, bounds) in Pools ?? new Dictionary<string, PoolBounds>())
        {
            if (!PoolNames.Contains(pool))
            {
                errors.Add(($"pools.{pool}", $"Unknown pool '{pool}'; pools are {string.Join(", ", PoolNames)}."));
                continue;
            }

            if (bounds.MinReplicas < 0 || bounds.MinReplicas > MaxReplicas)
            {
                errors.Add(($"pools.{pool}.minReplicas", $"Minimum replicas of '{pool}' must be between 0 and {MaxReplicas} (was {bounds.MinReplicas})."));
            }

            if (bounds.MaxReplicas < 1 || bounds.MaxReplicas > MaxReplicas)
            {
                errors.Add(($"pools.{pool}.maxReplicas", $"Maximum replicas of '{pool}' must be between 1 and {MaxReplicas} (was {bounds.MaxReplicas})."));
            }

            if (bounds.MinReplicas > bounds.MaxReplicas)
            {
                errors.Add(($"pools.{pool}", $"Minimum replicas of '{pool}' ({bounds.MinReplicas}) exceed its maximum ({bounds.MaxReplicas})."));
            }
        }

        return errors;
    }
}

/// <summary>Replica bounds of one pool.</summary>
public sealed record PoolBounds(int MinReplicas, int MaxReplicas);

/// <summary>
/// One planner decision with its reason, published on <c>dynamo.{ns}.planner.decisions</c> and appended to the state
/// plane's capped log <see cref="Log"/> (newest first) for the Admin app's timeline.
/// </summary>
public sealed record PlannerDecision(
    string Id,
    DateTimeOffset Timestamp,
    string Mode,
    string Predictor,
    string Connector,
    SlaConfig Sla,
    PlannerObservation Observed,
    PlannerPrediction Predicted,
    IReadOnlyList<PoolDecision> Pools,
    string Reason)
    : IVersionedContract
{
    public const string Log = "planner-decisions";

    public const int LogLength = 1000;

    public static int CurrentVersion => 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = CurrentVersion;
}

/// <summary>What the planner saw over its last interval (latencies in milliseconds).</summary>
public sealed record PlannerObservation(
    double RequestsPerSecond,
    double AvgInputTokens,
    double AvgOutputTokens,
    double TtftP50Ms,
    double TtftP99Ms,
    double ItlP50Ms,
    double ItlP99Ms,
    double KvHitRate,
    int QueueDepth,
    double KvUsage);

/// <summary>The load the planner expects over its next interval.</summary>
public sealed record PlannerPrediction(double RequestsPerSecond, double AvgInputTokens, double AvgOutputTokens);

/// <summary>What the planner decided for one pool and what its connector did about it.</summary>
public sealed record PoolDecision(
    string Pool,
    int CurrentReplicas,
    int ComputedReplicas,
    int TargetReplicas,
    double CorrectionFactor,
    string Reason,
    string ConnectorOutcome);
