using System.Collections.Concurrent;
using System.Text;
using Dynamo.ServiceDefaults.Telemetry;
using Dynamo.ServiceDefaults.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Exporter;

namespace Dynamo.ServiceDefaults.Tests.Telemetry;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task Providers_NoOtlpEndpoint_NoExporterAndServiceNameFromApplication()
    {
        await using var app = await TestApp.StartAsync();

        var settings = app.Services.GetRequiredService<TelemetryProviders>().Settings;

        Assert.False(settings.ExportsOtlp);
        Assert.Equal("Dynamo.ServiceDefaults.Tests", settings.ServiceName);
    }

    [Fact]
    public async Task Providers_OtlpEndpointSet_ExportsTracesAndMetricsWithServiceName()
    {
        var received = new ConcurrentQueue<(string Path, string? ContentType, byte[] Body)>();
        await using var collector = await TestApp.StartAsync(
            configureApp: a => a.MapPost("/v1/{signal}", async (HttpRequest r) =>
            {
                using var body = new MemoryStream();
                await r.Body.CopyToAsync(body);
                received.Enqueue((r.Path.Value!, r.ContentType, body.ToArray()));
                return Results.Ok();
            }),
            serviceDefaults: false);
        await using var app = await TestApp.StartAsync(
            configureApp: a => a.MapGet("/ping", () => "pong"),
            configuration: new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress.ToString(),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_SERVICE_NAME"] = "dynamo-router-under-test",
            });
        var providers = app.Services.GetRequiredService<TelemetryProviders>();

        (await app.Client.GetAsync("/ping")).EnsureSuccessStatusCode();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!received.Any(r => r.Path == "/v1/traces") || !received.Any(r => r.Path == "/v1/metrics"))
        {
            // The server span ends just after the response is sent; flush until it has been exported.
            providers.ForceFlush(5_000);
            await Task.Delay(50, cts.Token);
        }

        Assert.True(providers.Settings.ExportsOtlp);
        var traces = received.First(r => r.Path == "/v1/traces");
        Assert.Equal("application/x-protobuf", traces.ContentType);
        Assert.Contains("dynamo-router-under-test", Encoding.UTF8.GetString(traces.Body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, OtlpExportProtocol.Grpc, "http://collector:4317/")]
    [InlineData("grpc", OtlpExportProtocol.Grpc, "http://collector:4317/")]
    [InlineData("http/protobuf", OtlpExportProtocol.HttpProtobuf, "http://collector:4317/v1/traces")]
    public void Settings_Protocol_EndpointPerSignal(string? protocol, OtlpExportProtocol expected, string expectedTraceEndpoint)
    {
        var settings = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4317", ["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol });
        var options = new OtlpExporterOptions();

        settings.ConfigureExporter(options, "v1/traces");

        Assert.Equal(expected, options.Protocol);
        Assert.Equal(expectedTraceEndpoint, options.Endpoint.ToString());
    }

    [Fact]
    public void Settings_UnknownProtocol_Throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4317", ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "carrier-pigeon" }));

        Assert.Contains("carrier-pigeon", error.Message, StringComparison.Ordinal);
    }

    private static TelemetrySettings Read(Dictionary<string, string?> values) =>
        TelemetrySettings.FromConfiguration(
            new ConfigurationBuilder().AddInMemoryCollection(values).Build(),
            new FakeEnvironment());

    private sealed class FakeEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Production";

        public string ApplicationName { get; set; } = "fallback-name";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}
