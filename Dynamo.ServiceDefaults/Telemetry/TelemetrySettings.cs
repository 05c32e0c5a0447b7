using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Exporter;

namespace Dynamo.ServiceDefaults.Telemetry;

/// <summary>What the OpenTelemetry environment variables asked for, read once at start-up.</summary>
public sealed record TelemetrySettings(
    string ServiceName,
    Uri? OtlpEndpoint,
    OtlpExportProtocol OtlpProtocol,
    string? OtlpHeaders,
    TimeSpan MetricExportInterval)
{
    /// <summary>Activity sources that become spans: ours, ASP.NET Core's server spans, HttpClient's client spans.</summary>
    public static readonly string[] ActivitySources = ["Dynamo", "Dynamo.*", "Microsoft.AspNetCore*", "System.Net.Http"];

    /// <summary>Meters exported over OTLP (Prometheus /metrics reads every meter of the service).</summary>
    public static readonly string[] Meters = ["Dynamo", "Dynamo.*", "Microsoft.AspNetCore*", "System.Net.Http", "System.Runtime"];

    public bool ExportsOtlp => OtlpEndpoint is not null;

    /// <summary>Reads the standard OTEL_* variables (via configuration, so tests and appsettings can set them too).</summary>
    public static TelemetrySettings FromConfiguration(IConfiguration configuration, IHostEnvironment environment)
    {
        var serviceName = configuration["OTEL_SERVICE_NAME"];
        var endpointText = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        Uri? endpoint = null;
        if (!string.IsNullOrWhiteSpace(endpointText) && !Uri.TryCreate(endpointText, UriKind.Absolute, out endpoint))
        {
            throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_ENDPOINT '{endpointText}' is not an absolute URI.");
        }

        var protocol = configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] switch
        {
            null or "" or "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            var other => throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_PROTOCOL '{other}' is not supported; use 'grpc' or 'http/protobuf'."),
        };

        var interval = int.TryParse(configuration["OTEL_METRIC_EXPORT_INTERVAL"], out var ms) && ms > 0 ? ms : 60_000;
        return new TelemetrySettings(
            string.IsNullOrWhiteSpace(serviceName) ? environment.ApplicationName : serviceName,
            endpoint,
            protocol,
            configuration["OTEL_EXPORTER_OTLP_HEADERS"],
            TimeSpan.FromMilliseconds(interval));
    }

    /// <summary>
    /// The exporter appends nothing to an endpoint set in code, so for http/protobuf the signal path
    /// (<c>v1/traces</c>) is added here, as the exporter itself does for the environment variable.
    /// </summary>
    public void ConfigureExporter(OtlpExporterOptions options, string signalPath)
    {
        var endpoint = OtlpEndpoint ?? throw new InvalidOperationException("No OTLP endpoint is configured.");
        options.Protocol = OtlpProtocol;
        options.Endpoint = OtlpProtocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : endpoint;
        if (!string.IsNullOrWhiteSpace(OtlpHeaders))
        {
            options.Headers = OtlpHeaders;
        }
    }
}
