using System.Diagnostics.Metrics;

namespace Dynamo.Gateway;

/// <summary>Instruments of the gateway (meter <c>Dynamo.Gateway</c>), named like Dynamo's frontend metrics.</summary>
internal static class GatewayMetrics
{
    public const string MeterName = "Dynamo.Gateway";

    private static readonly Meter s_meter = new(MeterName);

    private static readonly Counter<long> s_requests =
        s_meter.CreateCounter<long>("dynamo_gateway_requests_total", description: "Requests the gateway answered, by status code");

    private static readonly Counter<long> s_rejections =
        s_meter.CreateCounter<long>("dynamo_gateway_rejections_total", description: "Requests the gateway refused itself, by reason");

    private static readonly UpDownCounter<long> s_inflight =
        s_meter.CreateUpDownCounter<long>("dynamo_gateway_inflight_requests", description: "Requests being forwarded to routers");

    private static readonly Histogram<double> s_duration =
        s_meter.CreateHistogram<double>("dynamo_gateway_request_duration_seconds", unit: "s", description: "Time from request to the last response byte");

    private static readonly Histogram<double> s_firstByte =
        s_meter.CreateHistogram<double>("dynamo_gateway_time_to_first_byte_seconds", unit: "s", description: "Time from request to the router's first response byte");

    private static readonly Counter<long> s_tokens =
        s_meter.CreateCounter<long>("dynamo_gateway_tokens_total", description: "Tokens charged to API keys (from the responses' usage)");

    public static void Completed(int status, double seconds)
    {
        s_requests.Add(1, new KeyValuePair<string, object?>("status", status));
        s_duration.Record(seconds, new KeyValuePair<string, object?>("status", status));
    }

    public static void Rejected(string reason) => s_rejections.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void FirstByte(double seconds) => s_firstByte.Record(seconds);

    public static void InFlight(int delta) => s_inflight.Add(delta);

    public static void Tokens(long tokens) => s_tokens.Add(tokens);
}
