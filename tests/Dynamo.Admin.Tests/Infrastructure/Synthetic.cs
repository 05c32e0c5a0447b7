using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;

namespace Dynamo.Admin.Tests.Infrastructure;

/// <summary>Builds and publishes what routers, workers and the planner would publish, with values a test controls.</summary>
public static class Synthetic
{
    public static FrontendMetricsSnapshot Frontend(
        string routerId,
        DateTimeOffset at,
        double requestsPerSecond,
        double ttftP99Ms = 120,
        double kvHitRate = 0.5,
        int queued = 0,
        string workerId = "worker-0-0123abcd") =>
        new(routerId, "tiny", at, 1, 30, 100, requestsPerSecond, requestsPerSecond * 500, requestsPerSecond * 40, 500, 40,
            new LatencySummary(50, ttftP99Ms / 2, ttftP99Ms / 2, ttftP99Ms * 0.9, ttftP99Ms),
            new LatencySummary(500, 10, 9, 14, 20),
            kvHitRate, 3, queued, 0, 0, 0, requestsPerSecond, 4096,
            [new WorkerRoutingStats(workerId, 10, 100, (long)(100 * kvHitRate))],
            [new RoutingDecisionSample(at, "req-" + at.ToUnixTimeMilliseconds(), "kv_aware", workerId, 8, 4, 3.5)]);

    public static PlannerDecision Decision(string id, DateTimeOffset at, SlaConfig sla, string reason) =>
        new(id, at, "enforce", "constant", "virtual", sla,
            new PlannerObservation(4, 500, 40, 100, 150, 9, 20, 0.5, 0, 0.3),
            new PlannerPrediction(5, 500, 40),
            [new PoolDecision("aggregated", 1, 2, 2, 1.0, "TTFT above target", "applied")],
            reason);

    public static ValueTask PublishAsync(IEventPlane events, string ns, FrontendMetricsSnapshot snapshot) =>
        events.PublishAsync(Subjects.FrontendMetrics(ns, snapshot.RouterId), ContractSerializer.Serialize(snapshot));

    public static ValueTask PublishAsync(IEventPlane events, string ns, PlannerDecision decision) =>
        events.PublishAsync(Subjects.PlannerDecisions(ns), ContractSerializer.Serialize(decision));
}
