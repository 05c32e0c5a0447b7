using System.Diagnostics.Metrics;

namespace Dynamo.Runtime;

/// <summary>Instruments of the runtime library (meter <c>Dynamo.Runtime</c>).</summary>
internal static class RuntimeMetrics
{
    public const string MeterName = "Dynamo.Runtime";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>Messages a subscription dropped because its handler fell behind (bounded queue full).</summary>
    public static readonly Counter<long> EventsDropped =
        s_meter.CreateCounter<long>("dynamo_event_plane_dropped_messages_total", description: "Event-plane messages dropped by a full subscription queue");

    /// <summary>Worker leases renewed by heartbeat.</summary>
    public static readonly Counter<long> LeaseRenewals =
        s_meter.CreateCounter<long>("dynamo_registry_lease_renewals_total", description: "Worker registry lease renewals");

    /// <summary>Worker lease renewals that failed (state plane unreachable).</summary>
    public static readonly Counter<long> LeaseRenewalFailures =
        s_meter.CreateCounter<long>("dynamo_registry_lease_renewal_failures_total", description: "Failed worker registry lease renewals");
}
