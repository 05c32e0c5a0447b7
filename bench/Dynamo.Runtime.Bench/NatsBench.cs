using System.Diagnostics;
using System.Threading.Channels;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hashing;
using Dynamo.Runtime.Hosting;
using Dynamo.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamo.Runtime.Bench;

/// <summary>Event-plane latency and throughput against a local nats-server started for the run.</summary>
internal static class NatsBench
{
    private const int LatencySamples = 5_000;
    private const int ThroughputMessages = 100_000;

    public static async Task<IEnumerable<BenchRow>> RunAsync()
    {
        await using var server = await NatsServer.StartNewAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration["ConnectionStrings:nats"] = server.Url;
        builder.AddDynamoRuntime();
        await using var services = builder.Services.BuildServiceProvider();
        var plane = services.GetRequiredService<IEventPlane>();
        await plane.WaitUntilConnectedAsync().WaitAsync(TimeSpan.FromSeconds(20));

        var rows = new List<BenchRow>();
        var payload = KvEventPayload();
        rows.Add(await RequestReplyAsync(plane, payload));
        rows.Add(await PublishToSubscriberAsync(plane, payload));
        rows.Add(await ThroughputAsync(plane, payload));
        return rows;
    }

    private static async Task<BenchRow> RequestReplyAsync(IEventPlane plane, byte[] payload)
    {
        await using var responder = await plane.ServeAsync("dynamo.bench.echo", (m, _) => ValueTask.FromResult(m.Data));
        var samples = new double[LatencySamples];
        for (var i = -200; i < LatencySamples; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await plane.RequestAsync("dynamo.bench.echo", payload, TimeSpan.FromSeconds(5));
            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }

        return Percentiles("NATS request/reply round trip", samples, payload.Length);
    }

    private static async Task<BenchRow> PublishToSubscriberAsync(IEventPlane plane, byte[] payload)
    {
        var received = Channel.CreateBounded<long>(1);
        await using var subscription = await plane.SubscribeAsync("dynamo.bench.oneway", (_, token) => received.Writer.WriteAsync(Stopwatch.GetTimestamp(), token));
        await WarmUpAsync(plane, "dynamo.bench.oneway", payload, received.Reader);
        var samples = new double[LatencySamples];
        for (var i = 0; i < LatencySamples; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await plane.PublishAsync("dynamo.bench.oneway", payload);
            var end = await received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            samples[i] = Stopwatch.GetElapsedTime(start, end).TotalMicroseconds;
        }

        return Percentiles("NATS publish → subscriber handler", samples, payload.Length);
    }

    private static async Task<BenchRow> ThroughputAsync(IEventPlane plane, byte[] payload)
    {
        var count = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new SubscriptionOptions { Capacity = 16_384, FullMode = BoundedChannelFullMode.Wait };
        await using var subscription = await plane.SubscribeAsync("dynamo.bench.stream", (_, _) =>
        {
            if (Interlocked.Increment(ref count) == ThroughputMessages)
            {
                done.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }, options);
        await Task.Delay(200);

        var start = Stopwatch.GetTimestamp();
        var interruptions = 0;
        for (var i = 0; i < ThroughputMessages; i++)
        {
            try
            {
                await plane.PublishAsync("dynamo.bench.stream", payload);
            }
            catch (EventPlaneUnavailableException)
            {
                // A reconnect under load: wait for the connection and count the gap instead of aborting the run.
                interruptions++;
                await plane.WaitUntilConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }

        var completed = await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(60))) == done.Task;
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var delivered = Volatile.Read(ref count);
        var notes = completed ? $"{payload.Length} B KV Stored batch, all {ThroughputMessages} delivered" : $"only {delivered}/{ThroughputMessages} delivered in 60 s";
        if (interruptions > 0)
        {
            notes += $", {interruptions} publishes hit a reconnect";
        }

        return new BenchRow("NATS pub→sub throughput (1 pub, 1 sub)", BenchRow.F(delivered / seconds, "0"), "msg/s", notes);
    }

    private static async Task WarmUpAsync(IEventPlane plane, string subject, byte[] payload, ChannelReader<long> received)
    {
        // The first publishes may precede the server learning about the subscription; retry until one arrives.
        for (var attempt = 0; attempt < 100; attempt++)
        {
            await plane.PublishAsync(subject, payload);
            try
            {
                await received.ReadAsync().AsTask().WaitAsync(TimeSpan.FromMilliseconds(200));
                break;
            }
            catch (TimeoutException)
            {
            }
        }

        for (var i = 0; i < 200; i++)
        {
            await plane.PublishAsync(subject, payload);
            await received.ReadAsync();
        }
    }

    private static BenchRow Percentiles(string name, double[] samples, int payloadBytes)
    {
        Array.Sort(samples);
        var p50 = samples[samples.Length / 2];
        var p99 = samples[(int)(samples.Length * 0.99)];
        return new BenchRow(name, $"{BenchRow.F(p50, "0")} / {BenchRow.F(p99, "0")}", "µs p50/p99", $"{samples.Length} sequential, {payloadBytes} B payload");
    }

    /// <summary>A serialized Stored batch of 16 blocks: the typical KV event a worker publishes after a prefill.</summary>
    private static byte[] KvEventPayload()
    {
        var hashes = KvBlockHashing.ComputeBlockHashes(Enumerable.Range(0, 16 * 16).ToArray(), 16);
        var blocks = new KvStoredBlock[hashes.Count];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new KvStoredBlock(hashes.SequenceHashes[i], hashes.LocalHashes[i]);
        }

        return ContractSerializer.Serialize(new KvEventBatch("worker-0001", 1, DateTimeOffset.UtcNow, [new KvStored(null, blocks, KvTier.Device)]));
    }
}
