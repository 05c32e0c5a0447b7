using Dynamo.Runtime.EventPlane;

namespace Dynamo.Runtime.StatePlane;

/// <summary>Redis key and channel names, all under <c>dynamo:{namespace}:</c>.</summary>
internal sealed class StateKeys(string ns)
{
    private readonly string _prefix = $"dynamo:{Subjects.ValidateToken(ns, "namespace")}:";

    public string Namespace { get; } = ns;

    /// <summary>String key holding one worker's registration; its TTL is the lease.</summary>
    public string Worker(string workerId) => $"{_prefix}workers:{workerId}";

    /// <summary>The worker id in a <see cref="Worker"/> key, or null for other keys.</summary>
    public string? WorkerIdFromKey(string key)
    {
        var prefix = $"{_prefix}workers:";
        return key.StartsWith(prefix, StringComparison.Ordinal) && key.Length > prefix.Length ? key[prefix.Length..] : null;
    }

    /// <summary>Set of worker ids that may hold a lease (pruned when a lease is found gone).</summary>
    public string WorkerIndex => $"{_prefix}workers";

    /// <summary>Pub/sub channel for register/unregister notices.</summary>
    public string WorkerChanges => $"{_prefix}workers:changes";

    /// <summary>Hash: model name → model card JSON.</summary>
    public string Models => $"{_prefix}models";

    public string ModelChanges => $"{_prefix}models:changes";

    /// <summary>Hash of JSON documents in one collection (id → JSON).</summary>
    public string Documents(string collection) => $"{_prefix}state:{collection}";

    /// <summary>List holding one capped log, newest first.</summary>
    public string Log(string log) => $"{_prefix}logs:{log}";

    /// <summary>Hash of counters in one collection (id → integer).</summary>
    public string Counters(string collection) => $"{_prefix}counters:{collection}";
}
