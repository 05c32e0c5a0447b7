using Dynamo.ServiceDefaults.Metrics;

namespace Dynamo.ServiceDefaults.Tests.Metrics;

public sealed class PrometheusNamingTests
{
    [Theory]
    [InlineData("dynamo.frontend.requests", "{request}", "Counter", "dynamo_frontend_requests_total")]
    [InlineData("dynamo_frontend_requests_total", null, "Counter", "dynamo_frontend_requests_total")]
    [InlineData("http.server.request.duration", "s", "Histogram", "http_server_request_duration_seconds")]
    [InlineData("dynamo.frontend.time_to_first_token_seconds", "s", "Histogram", "dynamo_frontend_time_to_first_token_seconds")]
    [InlineData("kestrel.active-connections", "{connection}", "Gauge", "kestrel_active_connections")]
    [InlineData("dynamo.worker.kv_usage", "1", "Gauge", "dynamo_worker_kv_usage_ratio")]
    [InlineData("dotnet.gc.heap.total_allocated", "By", "Counter", "dotnet_gc_heap_total_allocated_bytes_total")]
    [InlineData("throughput", "{token}/s", "Gauge", "throughput_per_second")]
    [InlineData("transfer.rate", "By/s", "Gauge", "transfer_rate_bytes_per_second")]
    [InlineData("9lives..x", null, "Gauge", "_9lives_x")]
    public void MetricName_InstrumentNameAndUnit_FollowsPrometheusConventions(string name, string? unit, string type, string expected) =>
        Assert.Equal(expected, PrometheusNaming.MetricName(name, unit, Enum.Parse<PrometheusMetricType>(type)));

    [Theory]
    [InlineData("http.request.method", "http_request_method")]
    [InlineData("error-type", "error_type")]
    [InlineData("ns:key", "ns_key")]
    public void LabelName_TagKey_Sanitised(string key, string expected) =>
        Assert.Equal(expected, PrometheusNaming.LabelName(key));

    [Theory]
    [InlineData(1.0, "1")]
    [InlineData(0.005, "0.005")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(-2.5, "-2.5")]
    public void FormatValue_Doubles_PrometheusSpelling(double value, string expected) =>
        Assert.Equal(expected, PrometheusNaming.FormatValue(value));
}
