using System.Diagnostics.Metrics;

namespace Dynamo.Router.Routing;

/// <summary>Instruments of KV-aware routing (meter <c>Dynamo.Router.Routing</c>).</summary>
internal static class RoutingMetrics
{
    public const string MeterName = "Dynamo.Router.Routing";

    private static readonly Meter s_meter = new(MeterName);

    public static readonly Counter<long> EventBatchesApplied =
        s_meter.CreateCounter<long>("dynamo_router_kv_event_batches_total", description: "KV event batches applied to the router's index in order");

    public static readonly Counter<long> DumpsRequested =
        s_meter.CreateCounter<long>("dynamo_router_kv_dumps_total", description: "KV dumps requested after an event-id gap or first contact");

    public static readonly Counter<long> DumpFailures =
        s_meter.CreateCounter<long>("dynamo_router_kv_dump_failures_total", description: "KV dump requests that failed or timed out");

    /// <summary>Tagged with the policy that decided.</summary>
    public static readonly Counter<long> Decisions =
        s_meter.CreateCounter<long>("dynamo_router_routing_decisions_total", description: "Requests placed on a worker");

    /// <summary>Prompt blocks the chosen worker already held (device tier), summed; divided by request blocks it is the predicted hit rate.</summary>
    public static readonly Counter<long> OverlapBlocks =
        s_meter.CreateCounter<long>("dynamo_router_routing_overlap_blocks_total", description: "Prompt blocks the chosen worker already cached");

    public static readonly Counter<long> RequestBlocks =
        s_meter.CreateCounter<long>("dynamo_router_routing_request_blocks_total", description: "Prompt blocks of routed requests");

    public static readonly Counter<long> Shed =
        s_meter.CreateCounter<long>("dynamo_router_routing_shed_total", description: "Requests shed because every worker was busy");

    /// <summary>Requests routed to a decode worker, tagged <c>mode</c> (remote / local) and <c>why</c> (a fixed word per rule).</summary>
    public static readonly Counter<long> PrefillDecisions =
        s_meter.CreateCounter<long>("dynamo_router_prefill_decisions_total", description: "Where decode workers' prompts were prefilled: on a prefill worker or locally");

    public static readonly Counter<long> RemotePrefillFailures =
        s_meter.CreateCounter<long>("dynamo_router_remote_prefill_failures_total", description: "Remote prefills that failed; their decode workers recomputed the prompt");
}
