using System.Diagnostics.Metrics;

namespace Dynamo.Router.Observability;

/// <summary>
/// The frontend's instruments, named as Dynamo's (DESIGN.md §7) so its dashboards carry over. ServiceDefaults maps
/// instrument names to Prometheus: counters gain <c>_total</c>, unit <c>s</c> gains <c>_seconds</c>, and
/// <c>{token}</c>-style units add nothing, so <c>dynamo_frontend_time_to_first_token</c> in s is exported as
/// <c>dynamo_frontend_time_to_first_token_seconds</c>.
/// </summary>
public sealed class FrontendMetrics
{
    public const string MeterName = "Dynamo.Router";

    private readonly Counter<long> _requests;
    private readonly UpDownCounter<long> _inflight;
    private readonly UpDownCounter<long> _queued;
    private readonly Histogram<double> _ttft;
    private readonly Histogram<double> _itl;
    private readonly Histogram<long> _input;
    private readonly Histogram<long> _output;
    private readonly Histogram<long> _cached;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _cancellations;
    private readonly Counter<long> _migrations;

    public FrontendMetrics(IMeterFactory meters, FrontendWindow window)
    {
        Window = window;
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("dynamo_frontend_requests", "{request}", "Requests by model, endpoint, type and status");
        _inflight = meter.CreateUpDownCounter<long>("dynamo_frontend_inflight_requests", "{request}", "Requests being processed");
        _queued = meter.CreateUpDownCounter<long>("dynamo_frontend_queued_requests", "{request}", "Requests waiting for a worker to accept them");
        _ttft = meter.CreateHistogram<double>("dynamo_frontend_time_to_first_token", "s", "Time from request arrival to its first token");
        _itl = meter.CreateHistogram<double>("dynamo_frontend_inter_token_latency", "s", "Time between consecutive tokens of one choice");
        _input = meter.CreateHistogram<long>("dynamo_frontend_input_sequence_tokens", "{token}", "Prompt tokens per request");
        _output = meter.CreateHistogram<long>("dynamo_frontend_output_sequence_tokens", "{token}", "Generated tokens per request");
        _cached = meter.CreateHistogram<long>("dynamo_frontend_cached_tokens", "{token}", "Prompt tokens served from a worker's prefix cache per request");
        _rejections = meter.CreateCounter<long>("dynamo_frontend_model_rejection", "{request}", "Requests refused because no worker could take them (503/429)");
        _cancellations = meter.CreateCounter<long>("dynamo_frontend_model_cancellation", "{request}", "Requests whose client disconnected before the end");
        _migrations = meter.CreateCounter<long>("dynamo_frontend_model_migration", "{request}", "Worker streams that broke mid-generation and continued on another worker");
    }

    /// <summary>The recent history behind the published <c>FrontendMetricsSnapshot</c>.</summary>
    public FrontendWindow Window { get; }

    public void RequestFinished(string model, string endpoint, bool stream, string status) =>
        _requests.Add(1, new("model", model), new("endpoint", endpoint), new("request_type", stream ? "stream" : "unary"), new("status", status));

    public void InflightChanged(string model, int delta)
    {
        _inflight.Add(delta, new KeyValuePair<string, object?>("model", model));
        Window.InflightChanged(delta);
    }

    public void QueuedChanged(string model, int delta)
    {
        _queued.Add(delta, new KeyValuePair<string, object?>("model", model));
        Window.QueuedChanged(delta);
    }

    public void FirstToken(string model, TimeSpan elapsed)
    {
        _ttft.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("model", model));
        Window.FirstToken(elapsed);
    }

    public void InterToken(string model, TimeSpan elapsed)
    {
        _itl.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("model", model));
        Window.InterToken(elapsed);
    }

    public void Tokens(string model, int input, int output, int cached)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        _input.Record(input, tag);
        _output.Record(output, tag);
        _cached.Record(cached, tag);
        Window.Finished(input, output, cached);
    }

    public void Rejected(string model)
    {
        _rejections.Add(1, new KeyValuePair<string, object?>("model", model));
        Window.Rejected();
    }

    public void Migrated(string model)
    {
        _migrations.Add(1, new KeyValuePair<string, object?>("model", model));
        Window.Migrated();
    }

    public void Cancelled(string model)
    {
        _cancellations.Add(1, new KeyValuePair<string, object?>("model", model));
        Window.Cancelled();
    }
}
