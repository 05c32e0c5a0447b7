using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Dynamo.ServiceDefaults.Metrics;

internal enum PrometheusMetricType
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>Aggregation state of one instrument: its Prometheus family and its series per tag set.</summary>
internal sealed class InstrumentState
{
    /// <summary>Series per instrument before new tag sets fold into one overflow series (OpenTelemetry's default cardinality limit).</summary>
    internal const int MaxSeries = 2000;

    private readonly ConcurrentDictionary<MetricTagKey, MetricSeries> _byTags = new(MetricTagKeyComparer.Instance);
    private readonly ConcurrentDictionary<MetricTagKey, MetricSeries>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
    private readonly Dictionary<string, MetricSeries> _byLabels = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Update _update;
    private MetricSeries[] _series = [];
    private long _generation;

    private InstrumentState(Instrument instrument, PrometheusMetricType type, Update update, double[] boundaries)
    {
        Instrument = instrument;
        Type = type;
        _update = update;
        Boundaries = boundaries;
        Name = PrometheusNaming.MetricName(instrument.Name, instrument.Unit, type);
        Help = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description;
        _lookup = _byTags.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    private enum Update
    {
        Add,
        Set,
        Observe,
    }

    public Instrument Instrument { get; }

    /// <summary>Publication order; the earliest instrument of a family decides its type, so scrapes are stable.</summary>
    public long Sequence { get; init; }

    public string Name { get; }

    public string Help { get; }

    public PrometheusMetricType Type { get; }

    public double[] Boundaries { get; }

    public bool IsObservable => Instrument.IsObservable;

    /// <summary>Series in creation order; a snapshot safe to enumerate while measurements arrive.</summary>
    public MetricSeries[] Series => Volatile.Read(ref _series);

    /// <summary>The current scrape number; observable series not reported in it are stale.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Creates state for a supported instrument kind, or null for one Prometheus cannot express.</summary>
    public static InstrumentState? TryCreate(Instrument instrument, long sequence)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null; // a custom instrument subclass; its aggregation semantics are unknown
        }

        var definition = type.GetGenericTypeDefinition();
        (PrometheusMetricType Type, Update Update)? kind = definition switch
        {
            _ when definition == typeof(Counter<>) => (PrometheusMetricType.Counter, Update.Add),
            _ when definition == typeof(UpDownCounter<>) => (PrometheusMetricType.Gauge, Update.Add),
            _ when definition == typeof(Gauge<>) => (PrometheusMetricType.Gauge, Update.Set),
            _ when definition == typeof(Histogram<>) => (PrometheusMetricType.Histogram, Update.Observe),
            // Observable counters report running totals, so the latest observation is the value.
            _ when definition == typeof(ObservableCounter<>) => (PrometheusMetricType.Counter, Update.Set),
            _ when definition == typeof(ObservableUpDownCounter<>) => (PrometheusMetricType.Gauge, Update.Set),
            _ when definition == typeof(ObservableGauge<>) => (PrometheusMetricType.Gauge, Update.Set),
            _ => null,
        };

        if (kind is not { } k)
        {
            return null;
        }

        var boundaries = k.Type == PrometheusMetricType.Histogram ? HistogramBoundaries.For(instrument) : [];
        return new InstrumentState(instrument, k.Type, k.Update, boundaries) { Sequence = sequence };
    }

    /// <summary>Starts a scrape: observable callbacks that follow belong to <paramref name="generation"/>.</summary>
    public void BeginObservation(long generation) => Volatile.Write(ref _generation, generation);

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        if (!_lookup.TryGetValue(tags, out var series))
        {
            series = GetOrCreate(tags);
        }

        switch (_update)
        {
            case Update.Add when Type == PrometheusMetricType.Counter && value < 0:
                // A counter only goes up; a negative delta is a caller bug, not data.
                return;
            case Update.Add:
                series.Add(value);
                break;
            case Update.Set:
                series.Set(value, Generation);
                break;
            case Update.Observe:
                series.Observe(value, Boundaries);
                break;
        }
    }

    private MetricSeries GetOrCreate(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_gate)
        {
            if (_lookup.TryGetValue(tags, out var existing))
            {
                return existing;
            }

            var labels = RenderLabels(tags);
            if (!_byLabels.TryGetValue(labels, out var series))
            {
                if (_byLabels.Count >= MaxSeries)
                {
                    // Do not remember the key: an unbounded tag (a request id) must not grow memory.
                    return GetOverflowSeries();
                }

                series = Add(labels);
            }

            // Tags that differ only in order or value type (1 vs 1L) render alike and share the series.
            _lookup.TryAdd(tags, series);
            return series;
        }
    }

    private MetricSeries GetOverflowSeries()
    {
        const string OverflowLabels = "otel_metric_overflow=\"true\"";
        return _byLabels.TryGetValue(OverflowLabels, out var overflow) ? overflow : Add(OverflowLabels);
    }

    private MetricSeries Add(string labels)
    {
        var series = new MetricSeries(labels, Boundaries.Length, Type == PrometheusMetricType.Histogram);
        _byLabels.Add(labels, series);
        Volatile.Write(ref _series, [.. _series, series]);
        return series;
    }

    /// <summary>Renders tags as sorted, sanitised, escaped label pairs; keys that sanitise alike are joined with ';'.</summary>
    internal static string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return "";
        }

        var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            var name = PrometheusNaming.LabelName(tag.Key);
            var value = PrometheusNaming.TagValue(tag.Value);
            pairs[name] = pairs.TryGetValue(name, out var previous) ? previous + ";" + value : value;
        }

        var sb = new StringBuilder();
        foreach (var (name, value) in pairs)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(name).Append("=\"");
            PrometheusNaming.AppendEscapedLabelValue(sb, value);
            sb.Append('"');
        }

        return sb.ToString();
    }
}
