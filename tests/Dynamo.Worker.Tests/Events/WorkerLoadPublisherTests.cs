using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.TestSupport;
using Dynamo.Worker.Events;
using Dynamo.Worker.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Tests.Events;

public sealed class WorkerLoadPublisherTests
{
    internal static Dictionary<string, string?> Mocker(string workerId, string? natsUrl = null, double speedUp = 1) => new()
    {
        ["Worker:Engine"] = "mocker",
        ["Worker:Mocker:SpeedUp"] = speedUp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Worker:LoadMetricsIntervalMilliseconds"] = "50",
        ["DYNAMO_INSTANCE_ID"] = workerId,
        ["ConnectionStrings:nats"] = natsUrl ?? "nats://127.0.0.1:1",
    };

    [Fact]
    public async Task Publish_WhileAStreamRuns_ReportsItsBlocksThenReturnsToIdle()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var app = await WorkerApp.StartAsync(Mocker("load-worker", nats.Url));
        var plane = app.Services.GetRequiredService<IEventPlane>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await plane.WaitUntilConnectedAsync(timeout.Token);
        var received = new ConcurrentQueue<WorkerLoadMetrics>();
        await using var subscription = await plane.SubscribeAsync<WorkerLoadMetrics>(
            Subjects.Metrics("dynamo", "load-worker"),
            (metrics, _) =>
            {
                received.Enqueue(metrics);
                return ValueTask.CompletedTask;
            },
            cancellationToken: timeout.Token);
        using var client = app.CreateClient();
        using var gauges = new GaugeReader("dynamo_worker_active_decode_blocks", app.Services.GetRequiredService<IMeterFactory>());

        // 70 prompt + 200 generated tokens in 16-token blocks: up to 17 blocks while it runs.
        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Enumerable.Range(100, 70).ToArray(), max_tokens = 200 }),
            HttpCompletionOption.ResponseHeadersRead,
            timeout.Token);
        var busy = await WaitForAsync(received, m => m.RunningSeqs == 1 && m.ActiveDecodeBlocks >= 5, timeout.Token);
        var busyGauge = gauges.Read();
        var events = await WorkerApp.ReadEventsAsync(response);
        var idle = await WaitForAsync(received, m => m.Timestamp > busy.Timestamp && m.RunningSeqs == 0, timeout.Token);

        Assert.Equal(200, events.Count);
        Assert.Equal("load-worker", busy.WorkerId);
        Assert.Equal(256, busy.TotalBlocks);
        Assert.InRange(busy.ActiveDecodeBlocks, 5, 17);
        Assert.Equal(busy.ActiveDecodeBlocks / 256.0, busy.KvUsage, 6);
        Assert.Equal(0, busy.WaitingSeqs);
        Assert.Equal(0, busy.PrefixHitRate);
        Assert.Equal(KvTier.Device, Assert.Single(busy.Tiers!).Tier);
        Assert.True(busyGauge > 0, "the Prometheus gauge follows the published snapshot");
        Assert.Equal(0, idle.ActiveDecodeBlocks);
        Assert.Equal(0, idle.ActivePrefillTokens);
        Assert.True(idle.Tiers![0].UsedBlocks >= 4, "the finished prompt's full blocks stay cached in G1");
    }

    [Fact]
    public async Task Publish_NatsUnreachable_GenerationCompletesAndSnapshotsAreDropped()
    {
        await using var app = await WorkerApp.StartAsync(Mocker("load-no-nats", speedUp: 50));
        var publisher = app.Services.GetRequiredService<WorkerLoadPublisher>();
        using var client = app.CreateClient();

        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Enumerable.Range(100, 20).ToArray(), max_tokens = 50 }),
            HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (publisher.Dropped < 2)
        {
            await Task.Delay(50, timeout.Token);
        }

        Assert.Equal(50, events.Count);
        Assert.Equal(0, publisher.Published);
        Assert.NotNull(publisher.Last);
    }

    private static async Task<WorkerLoadMetrics> WaitForAsync(
        ConcurrentQueue<WorkerLoadMetrics> received, Func<WorkerLoadMetrics, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (received.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Reads one app's observable gauge the way an exporter does (other tests' apps run in parallel).</summary>
    private sealed class GaugeReader : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _value = -1;

        public GaugeReader(string name, IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == name && instrument.Meter.Name == WorkerLoadPublisher.MeterName && ReferenceEquals(instrument.Meter.Scope, scope))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Exchange(ref _value, value));
            _listener.Start();
        }

        public long Read()
        {
            _listener.RecordObservableInstruments();
            return Interlocked.Read(ref _value);
        }

        public void Dispose() => _listener.Dispose();
    }
}
