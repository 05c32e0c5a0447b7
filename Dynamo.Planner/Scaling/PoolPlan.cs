namespace Dynamo.Planner.Scaling;

/// <summary>What the planner wants for one pool before the connector acts.</summary>
public sealed record PoolPlan(string Pool, int Current, int Computed, int Target, double Correction, string Reason);

/// <summary>The demand on a pool, as the replica math reads it (prediction for throughput mode, observation for load mode).</summary>
public sealed record PoolDemand(
    string Pool,
    int Current,
    int Queued,
    int Inflight,
    double KvUsage,
    double TtftP99Ms,
    double ItlP99Ms,
    bool Idle);
