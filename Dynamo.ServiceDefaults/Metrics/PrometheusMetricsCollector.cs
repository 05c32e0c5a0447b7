using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Dynamo.ServiceDefaults.Metrics;

/// <summary>
/// Listens to every <see cref="Meter"/> of this service (static meters such as <c>System.Runtime</c>,
/// and meters from this host's <see cref="IMeterFactory"/>, e.g. <c>Microsoft.AspNetCore.Hosting</c>
/// and Kestrel) and renders them in the Prometheus text exposition format 0.0.4.
/// </summary>
public sealed partial class PrometheusMetricsCollector : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly MeterListener _listener;
    private readonly IMeterFactory? _meterFactory;
    private readonly ILogger _logger;
    private readonly Lock _scrapeGate = new();
    private readonly HashSet<string> _reportedConflicts = new(StringComparer.Ordinal);
    private long _generation;
    private long _published;

    /// <param name="meterFactory">
    /// This host's factory. Meters created by another host's factory (several hosts in one test
    /// process) are ignored, so one service never reports another's request counts.
    /// </param>
    public PrometheusMetricsCollector(IMeterFactory? meterFactory, ILogger<PrometheusMetricsCollector> logger)
    {
        _meterFactory = meterFactory;
        _logger = logger;
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentState? _),
        };
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((InstrumentState)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Collects observable instruments and writes every family to <paramref name="writer"/>.</summary>
    public void WriteTo(TextWriter writer)
    {
        // One scrape at a time: observable callbacks run on this thread and stamp the scrape number.
        lock (_scrapeGate)
        {
            var generation = ++_generation;
            var states = _instruments.Values.ToArray();
            Array.Sort(states, static (a, b) => a.Sequence.CompareTo(b.Sequence));
            foreach (var state in states)
            {
                if (state.IsObservable)
                {
                    state.BeginObservation(generation);
                }
            }

            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (AggregateException e)
            {
                // The listener runs every callback before throwing; one faulty gauge must not blank the scrape.
                LogObservableCallbackFailed(e.InnerExceptions.Count, e.InnerExceptions[0]);
            }

            PrometheusTextFormatter.Write(writer, states, OnConflict);
        }
    }

    public string Scrape()
    {
        var writer = new StringWriter(new StringBuilder(4096)) { NewLine = "\n" };
        WriteTo(writer);
        return writer.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        var scope = instrument.Meter.Scope;
        if (scope is not null && !ReferenceEquals(scope, _meterFactory))
        {
            return;
        }

        if (InstrumentState.TryCreate(instrument, Interlocked.Increment(ref _published)) is not { } state)
        {
            return;
        }

        _instruments[instrument] = state;
        listener.EnableMeasurementEvents(instrument, state);
    }

    private void OnConflict(InstrumentState skipped, PrometheusMetricType existing)
    {
        if (_reportedConflicts.Add(skipped.Instrument.Meter.Name + "/" + skipped.Instrument.Name))
        {
            LogTypeConflict(skipped.Instrument.Meter.Name, skipped.Instrument.Name, skipped.Name, existing);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} observable instrument callback(s) failed during a scrape; their series are left out.")]
    private partial void LogObservableCallbackFailed(int count, Exception first);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instrument {Meter}/{Instrument} maps to Prometheus family {Family} that already has type {Type}; it is left out of /metrics.")]
    private partial void LogTypeConflict(string meter, string instrument, string family, PrometheusMetricType type);
}
