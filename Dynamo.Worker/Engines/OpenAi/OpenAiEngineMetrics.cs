using System.Diagnostics.Metrics;

namespace Dynamo.Worker.Engines.OpenAi;

/// <summary>
/// Instruments on the <c>Dynamo.Worker.OpenAi</c> meter. Running and waiting use the scheduler's gauge names, so the
/// dashboards and the planner read an openai worker like any other (a worker runs one engine, so they never clash).
/// </summary>
internal sealed class OpenAiEngineMetrics : IDisposable
{
    public const string MeterName = "Dynamo.Worker.OpenAi";

    private readonly Meter _meter;
    private readonly Counter<long> _failures;

    public OpenAiEngineMetrics(IMeterFactory? meterFactory, Func<int> running, Func<int> waiting)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableGauge("dynamo_worker_scheduler_running", running, description: "Requests forwarded to the upstream server now");
        _meter.CreateObservableGauge("dynamo_worker_scheduler_waiting", waiting, description: "Requests waiting for a forwarding slot");
        _failures = _meter.CreateCounter<long>("dynamo_worker_openai_upstream_failures", description: "Forwarded requests the upstream server refused or failed, by kind");
    }

    /// <param name="kind">rejected (4xx), server_error (5xx or a non-stream answer), unreachable, stream_broken.</param>
    public void Failed(string kind) => _failures.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Dispose() => _meter.Dispose();
}
