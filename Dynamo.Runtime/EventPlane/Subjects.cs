namespace Dynamo.Runtime.EventPlane;

/// <summary>
/// Every event-plane subject, namespaced <c>dynamo.{namespace}.…</c> so several deployments can share one broker.
/// </summary>
public static class Subjects
{
    /// <summary>KV cache events of one worker (<see cref="Contracts.KvEventBatch"/>).</summary>
    public static string KvEvents(string ns, string workerId) => Join(ns, "kv.events", workerId);

    /// <summary>KV cache events of every worker (subscription wildcard).</summary>
    public static string AllKvEvents(string ns) => Join(ns, "kv.events", "*");

    /// <summary>
    /// Request/reply: a worker answers with a full dump of its cached blocks (after a router saw an event-id gap), as one
    /// <see cref="Contracts.KvEventBatch"/> holding <see cref="Contracts.KvCleared"/> followed by <see cref="Contracts.KvStored"/> runs,
    /// whose event id is the worker's latest so the router resumes the sequence from there.
    /// </summary>
    public static string KvDump(string ns, string workerId) => Join(ns, "kv.dump", workerId);

    /// <summary>Load metrics of one worker (<see cref="Contracts.WorkerLoadMetrics"/>).</summary>
    public static string Metrics(string ns, string workerId) => Join(ns, "metrics", workerId);

    /// <summary>Load metrics of every worker (subscription wildcard).</summary>
    public static string AllMetrics(string ns) => Join(ns, "metrics", "*");

    /// <summary>A router's periodic <see cref="Contracts.FrontendMetricsSnapshot"/>.</summary>
    public static string FrontendMetrics(string ns, string routerId) => Join(ns, "frontend.metrics", routerId);

    /// <summary>Every router's frontend metrics (subscription wildcard).</summary>
    public static string AllFrontendMetrics(string ns) => Join(ns, "frontend.metrics", "*");

    /// <summary>Scaling decisions the planner made.</summary>
    public static string PlannerDecisions(string ns) => $"{Prefix(ns)}.planner.decisions";

    /// <summary>SLA targets changed (edited live from Admin).</summary>
    public static string SlaChanged(string ns) => $"{Prefix(ns)}.sla.changed";

    /// <summary>Model cards changed (a model was added, removed or re-routed).</summary>
    public static string ModelsChanged(string ns) => $"{Prefix(ns)}.models.changed";

    /// <summary>API keys were created or revoked at a gateway; every gateway replica drops its cached key lookups.</summary>
    public static string ApiKeysChanged(string ns) => $"{Prefix(ns)}.gateway.keys.changed";

    /// <summary>Checks that <paramref name="token"/> can stand as one subject token (no separators, wildcards or spaces).</summary>
    public static string ValidateToken(string token, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(token, what);
        foreach (var c in token)
        {
            if (c is '.' or '*' or '>' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new ArgumentException($"The {what} '{token}' cannot be used in a subject: it contains '{c}'.", what);
            }
        }

        return token;
    }

    private static string Prefix(string ns) => $"dynamo.{ValidateToken(ns, "namespace")}";

    private static string Join(string ns, string middle, string workerId) =>
        workerId == "*" ? $"{Prefix(ns)}.{middle}.*" : $"{Prefix(ns)}.{middle}.{ValidateToken(workerId, "worker id")}";
}
