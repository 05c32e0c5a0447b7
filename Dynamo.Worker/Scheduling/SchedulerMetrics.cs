using System.Diagnostics.Metrics;

namespace Dynamo.Worker.Scheduling;

/// <summary>Instruments on the <c>Dynamo.Worker.Scheduler</c> meter, mirrored in fields for tests and the admin view.</summary>
internal sealed class SchedulerMetrics : IDisposable
{
    public const string MeterName = "Dynamo.Worker.Scheduler";

    private readonly Meter _meter;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _preemptions;
    private readonly Histogram<double> _stepTime;

    public SchedulerMetrics(IMeterFactory? meterFactory, Func<int> running, Func<int> waiting)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableGauge("dynamo_worker_scheduler_running", running, description: "Sequences in the running batch");
        _meter.CreateObservableGauge("dynamo_worker_scheduler_waiting", waiting, description: "Requests waiting for admission");
        _promptTokens = _meter.CreateCounter<long>("dynamo_worker_scheduler_computed_prompt_tokens", description: "Prompt tokens computed (cached prefixes excluded)");
        _preemptions = _meter.CreateCounter<long>("dynamo_worker_scheduler_preemptions", description: "Sequences preempted (tag mode: swap or recompute)");
        _stepTime = _meter.CreateHistogram<double>("dynamo_worker_scheduler_step_time", unit: "s", description: "Engine time per step");
    }

    public long ComputedPromptTokens { get; private set; }

    public long Preemptions { get; private set; }

    public long SwapPreemptions { get; private set; }

    public long Steps { get; private set; }

    public void PromptTokens(int tokens)
    {
        ComputedPromptTokens += tokens;
        _promptTokens.Add(tokens);
    }

    public void Preempted(bool swap)
    {
        Preemptions++;
        SwapPreemptions += swap ? 1 : 0;
        _preemptions.Add(1, new KeyValuePair<string, object?>("mode", swap ? "swap" : "recompute"));
    }

    public void Step(TimeSpan elapsed)
    {
        Steps++;
        _stepTime.Record(elapsed.TotalSeconds);
    }

    public void Dispose() => _meter.Dispose();
}
