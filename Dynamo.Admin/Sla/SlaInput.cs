using Dynamo.Runtime.Contracts;

namespace Dynamo.Admin.Sla;

/// <summary>The SLA form as posted (field names <c>Input.TtftMs</c>, <c>Input.Aggregated.Min</c>, …).</summary>
public sealed class SlaInput
{
    public double TtftMs { get; set; }

    public double ItlMs { get; set; }

    public int? WorkerBudget { get; set; }

    public PoolInput Aggregated { get; set; } = new();

    public PoolInput Prefill { get; set; } = new();

    public PoolInput Decode { get; set; } = new();

    public static SlaInput From(SlaConfig config) => new()
    {
        TtftMs = config.TtftMs,
        ItlMs = config.ItlMs,
        WorkerBudget = config.WorkerBudget,
        Aggregated = PoolInput.From(config, "aggregated"),
        Prefill = PoolInput.From(config, "prefill"),
        Decode = PoolInput.From(config, "decode"),
    };

    public SlaConfig ToConfig() => new(
        TtftMs,
        ItlMs,
        new Dictionary<string, PoolBounds>(StringComparer.Ordinal)
        {
            ["aggregated"] = Aggregated.ToBounds(),
            ["prefill"] = Prefill.ToBounds(),
            ["decode"] = Decode.ToBounds(),
        },
        WorkerBudget);
}

public sealed class PoolInput
{
    public int Min { get; set; }

    public int Max { get; set; }

    public static PoolInput From(SlaConfig config, string pool) =>
        config.Pools.TryGetValue(pool, out var bounds) ? new() { Min = bounds.MinReplicas, Max = bounds.MaxReplicas } : new() { Min = 1, Max = 4 };

    public PoolBounds ToBounds() => new(Min, Max);
}
