namespace Dynamo.Planner.Scaling;

/// <summary>What the planner wants for one pool before the connector acts.</summary>
public sealed record PoolPlan(string Pool, int Current, int Computed, int Target, double Correction, string Reason);

/// <summary>
/// The demand on a pool, as the replica math reads it (prediction for throughput mode, observation for load mode).
/// <see cref="TtftMs"/> and <see cref="ItlMs"/> are the statistics the SLA is judged on: TTFT p90 (at most one request
/// in ten misses the target) and the mean ITL (a request's ITL is its mean token gap).
/// </summary>
public sealed record PoolDemand(
    string Pool,
    int Current,
    int Queued,
    int Inflight,
    double KvUsage,
    double TtftMs,
    double ItlMs,
    bool Idle);
