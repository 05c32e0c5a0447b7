using System.Diagnostics.Metrics;
using Dynamo.ServiceDefaults.Metrics;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dynamo.ServiceDefaults.Tests.Metrics;

public sealed class PrometheusMetricsCollectorTests : IDisposable
{
    // Unique per test instance: xUnit runs tests of other classes in parallel against the same static listener set.
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8];
    private readonly Meter _meter;
    private readonly PrometheusMetricsCollector _collector = new(null, NullLogger<PrometheusMetricsCollector>.Instance);

    public PrometheusMetricsCollectorTests() => _meter = new Meter("Dynamo.Tests." + _prefix);

    public void Dispose()
    {
        _collector.Dispose();
        _meter.Dispose();
    }

    private PrometheusExposition Scrape() => PrometheusExposition.Parse(_collector.Scrape());

    [Fact]
    public void Scrape_CounterWithTags_SumsPerLabelSetWithTotalSuffix()
    {
        var counter = _meter.CreateCounter<long>(_prefix + ".requests", "{request}", "Requests served.");
        counter.Add(2, new KeyValuePair<string, object?>("model", "llama"));
        counter.Add(3, new KeyValuePair<string, object?>("model", "llama"));
        counter.Add(7, new KeyValuePair<string, object?>("model", "qwen"));
        counter.Add(-5, new KeyValuePair<string, object?>("model", "qwen"));

        var scrape = Scrape();

        var name = _prefix + "_requests_total";
        Assert.Equal("counter", scrape.Types[name]);
        Assert.Equal("Requests served.", scrape.Help[name]);
        Assert.Equal(5, scrape.Value(name, ("model", "llama")));
        Assert.Equal(7, scrape.Value(name, ("model", "qwen")));
    }

    [Fact]
    public void Scrape_SameTagsInAnyOrderOrNumericType_OneSeries()
    {
        var counter = _meter.CreateCounter<double>(_prefix + ".tokens");
        counter.Add(1.5, new("a", "x"), new("b", 1));
        counter.Add(2.5, new("b", 1), new("a", "x"));
        counter.Add(1, new("b", 1L), new("a", "x"));

        var samples = Scrape().Find(_prefix + "_tokens_total");

        var sample = Assert.Single(samples);
        Assert.Equal(5, sample.Value);
        Assert.Equal("1", sample.Labels["b"]);
    }

    [Fact]
    public void Scrape_HistogramInSeconds_CumulativeBucketsSumAndCount()
    {
        var histogram = _meter.CreateHistogram<double>(_prefix + ".ttft", "s");
        foreach (var value in (double[])[0.003, 0.02, 0.02, 0.3, 4, 120])
        {
            histogram.Record(value, new KeyValuePair<string, object?>("model", "m"));
        }

        var scrape = Scrape();

        var name = _prefix + "_ttft_seconds";
        Assert.Equal("histogram", scrape.Types[name]);
        Assert.Equal(1, scrape.Value(name + "_bucket", ("model", "m"), ("le", "0.005")));
        Assert.Equal(1, scrape.Value(name + "_bucket", ("model", "m"), ("le", "0.01")));
        Assert.Equal(3, scrape.Value(name + "_bucket", ("model", "m"), ("le", "0.025")));
        Assert.Equal(4, scrape.Value(name + "_bucket", ("model", "m"), ("le", "0.5")));
        Assert.Equal(5, scrape.Value(name + "_bucket", ("model", "m"), ("le", "5")));
        Assert.Equal(5, scrape.Value(name + "_bucket", ("model", "m"), ("le", "60")));
        Assert.Equal(6, scrape.Value(name + "_bucket", ("model", "m"), ("le", "+Inf")));
        Assert.Equal(6, scrape.Value(name + "_count", ("model", "m")));
        Assert.Equal(124.343, scrape.Value(name + "_sum", ("model", "m")), 9);
    }

    [Fact]
    public void Scrape_ValueOnBoundary_CountsInThatBucket()
    {
        var histogram = _meter.CreateHistogram<int>(_prefix + ".isl", "{token}", null, null,
            new InstrumentAdvice<int> { HistogramBucketBoundaries = [16, 256, 1024] });
        histogram.Record(16);
        histogram.Record(17);
        histogram.Record(5000);

        var scrape = Scrape();

        var buckets = scrape.Find(_prefix + "_isl_bucket");
        Assert.Equal(["16", "256", "1024", "+Inf"], buckets.Select(b => b.Labels["le"]));
        Assert.Equal([1d, 2, 2, 3], buckets.Select(b => b.Value));
    }

    [Fact]
    public void Scrape_UpDownCounterAndGauge_AreGauges()
    {
        var inflight = _meter.CreateUpDownCounter<int>(_prefix + ".inflight");
        var usage = _meter.CreateGauge<double>(_prefix + ".kv_usage", "1");
        inflight.Add(5);
        inflight.Add(-2);
        usage.Record(0.25);
        usage.Record(0.75);

        var scrape = Scrape();

        Assert.Equal("gauge", scrape.Types[_prefix + "_inflight"]);
        Assert.Equal(3, scrape.Value(_prefix + "_inflight"));
        Assert.Equal("gauge", scrape.Types[_prefix + "_kv_usage_ratio"]);
        Assert.Equal(0.75, scrape.Value(_prefix + "_kv_usage_ratio"));
    }

    [Fact]
    public void Scrape_ObservableInstruments_CallbacksRunPerScrapeAndStaleSeriesDisappear()
    {
        var calls = 0;
        var workers = new List<Measurement<long>> { new(3, new KeyValuePair<string, object?>("pool", "decode")) };
        _meter.CreateObservableGauge(_prefix + ".workers", () => workers);
        _meter.CreateObservableCounter(_prefix + ".evictions", () => { calls++; return 40L * calls; });

        var first = Scrape();
        workers = [new(2, new KeyValuePair<string, object?>("pool", "prefill"))];
        var second = Scrape();

        Assert.Equal(3, first.Value(_prefix + "_workers", ("pool", "decode")));
        Assert.Equal(40, first.Value(_prefix + "_evictions_total"));
        Assert.Empty(second.Find(_prefix + "_workers", ("pool", "decode")));
        Assert.Equal(2, second.Value(_prefix + "_workers", ("pool", "prefill")));
        Assert.Equal(80, second.Value(_prefix + "_evictions_total"));
        Assert.Equal("counter", second.Types[_prefix + "_evictions_total"]);
    }

    [Fact]
    public void Scrape_ObservableCallbackThrows_OtherFamiliesStillWritten()
    {
        _meter.CreateObservableGauge(_prefix + ".broken", int () => throw new InvalidOperationException("boom"));
        _meter.CreateObservableGauge(_prefix + ".fine", () => 4);

        var scrape = Scrape();

        Assert.Equal(4, scrape.Value(_prefix + "_fine"));
        Assert.Empty(scrape.Find(_prefix + "_broken"));
    }

    [Fact]
    public void Scrape_LabelValuesWithQuotesBackslashesAndNewlines_EscapedAndRoundTrip()
    {
        const string Nasty = "a \"quoted\" C:\\path\nnext } line";
        var counter = _meter.CreateCounter<int>(_prefix + ".escapes", null, "Help with \\ and\nnewline");
        counter.Add(1, new KeyValuePair<string, object?>("http.route", Nasty));

        var text = _collector.Scrape();
        var scrape = PrometheusExposition.Parse(text);

        var sample = Assert.Single(scrape.Find(_prefix + "_escapes_total"));
        Assert.Equal(Nasty, sample.Labels["http_route"]);
        Assert.Equal("Help with \\ and\nnewline", scrape.Help[_prefix + "_escapes_total"]);
        Assert.Contains("http_route=\"a \\\"quoted\\\" C:\\\\path\\nnext } line\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Scrape_TwoMetersSameInstrumentName_OneFamilyOneTypeLine()
    {
        using var other = new Meter("Dynamo.Tests." + _prefix + ".other");
        _meter.CreateCounter<int>(_prefix + ".shared").Add(1, new KeyValuePair<string, object?>("from", "a"));
        other.CreateCounter<int>(_prefix + ".shared").Add(2, new KeyValuePair<string, object?>("from", "b"));
        other.CreateGauge<int>(_prefix + ".shared_total").Record(9);

        var scrape = Scrape();

        Assert.Equal(1, scrape.Value(_prefix + "_shared_total", ("from", "a")));
        Assert.Equal(2, scrape.Value(_prefix + "_shared_total", ("from", "b")));
        Assert.Equal(2, scrape.Find(_prefix + "_shared_total").Count);
        // The gauge that sanitises to the same family came later and is left out rather than mixing types.
        Assert.Equal("counter", scrape.Types[_prefix + "_shared_total"]);
    }

    [Fact]
    public void Scrape_TooManyTagSets_FoldIntoOverflowSeries()
    {
        var counter = _meter.CreateCounter<int>(_prefix + ".by_request");
        for (var i = 0; i < InstrumentState.MaxSeries + 10; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("id", i));
        }

        var samples = Scrape().Find(_prefix + "_by_request_total");

        Assert.Equal(InstrumentState.MaxSeries + 1, samples.Count);
        Assert.Equal(10, Assert.Single(samples, s => s.Labels.ContainsKey("otel_metric_overflow")).Value);
    }

    [Fact]
    public void Scrape_ConcurrentRecording_LosesNoMeasurements()
    {
        var counter = _meter.CreateCounter<long>(_prefix + ".concurrent");
        var histogram = _meter.CreateHistogram<double>(_prefix + ".concurrent_latency", "ms");
        Parallel.For(0, 8, worker =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counter.Add(1, new KeyValuePair<string, object?>("w", worker % 2));
                histogram.Record(i % 300);
            }
        });

        var scrape = Scrape();

        Assert.Equal(40_000, scrape.Value(_prefix + "_concurrent_total", ("w", "0")));
        Assert.Equal(40_000, scrape.Value(_prefix + "_concurrent_total", ("w", "1")));
        Assert.Equal(80_000, scrape.Value(_prefix + "_concurrent_latency_milliseconds_count"));
    }

    [Fact]
    public void Scrape_DisposedMeter_IsDropped()
    {
        var meter = new Meter("Dynamo.Tests." + _prefix + ".short");
        meter.CreateCounter<int>(_prefix + ".gone").Add(1);
        Assert.Single(Scrape().Find(_prefix + "_gone_total"));

        meter.Dispose();

        Assert.Empty(Scrape().Find(_prefix + "_gone_total"));
    }

    [Fact]
    public void Scrape_MeterFromAnotherFactory_IsIgnored()
    {
        var scope = new object();
        using var foreign = new Meter(new MeterOptions("Dynamo.Tests." + _prefix + ".foreign") { Scope = scope });
        foreign.CreateCounter<int>(_prefix + ".foreign").Add(1);

        Assert.Empty(Scrape().Find(_prefix + "_foreign_total"));
    }
}
