using System.Threading.Channels;
using Dynamo.Runtime.Contracts;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Bench;

/// <summary>Drives a scheduler with n concurrent requests and reports wall time, steps and output tokens.</summary>
internal static class BenchStack
{
    public static async Task<(TimeSpan Elapsed, long Steps, long Tokens)> RunAsync(
        Scheduler scheduler, int concurrency, int promptTokens, int maxTokens, int vocab, SamplingParams sampling)
    {
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => scheduler.RunAsync(stop.Token));
        var stepsBefore = scheduler.Steps;
        var started = TimeProvider.System.GetTimestamp();
        var readers = new Task<int>[concurrency];
        for (var r = 0; r < concurrency; r++)
        {
            // Distinct prompts: no prefix reuse, every request prefills in full.
            var prompt = new int[promptTokens];
            for (var i = 0; i < prompt.Length; i++)
            {
                prompt[i] = 3 + (int)((r * 7_919L + i * 104_729L) % (vocab - 3));
            }

            readers[r] = CountAsync(scheduler.Submit(new SchedulerRequest($"bench-{r}", prompt, maxTokens, sampling)));
        }

        var counts = await Task.WhenAll(readers);
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        var steps = scheduler.Steps - stepsBefore;
        await stop.CancelAsync();
        await loop;
        return (elapsed, steps, counts.Sum());
    }

    private static async Task<int> CountAsync(ChannelReader<SchedulerOutput> reader)
    {
        var count = 0;
        await foreach (var _ in reader.ReadAllAsync())
        {
            count++;
        }

        return count;
    }
}

internal sealed class NoKvEvents : IKvEventSink
{
    public void Publish(KvEventBatch batch)
    {
    }
}

internal sealed class FixedSeeds : ISamplingSeedSource
{
    private ulong _next = 1;

    public ulong NextSeed() => _next++;
}

internal sealed class NoKvBytes : IKvBlockIo
{
    public int BlockBytes => 1;

    public void Export(int blockId, Span<byte> destination) => throw new InvalidOperationException("The mocker keeps no K/V bytes.");

    public void Import(int blockId, ReadOnlySpan<byte> source) => throw new InvalidOperationException("The mocker keeps no K/V bytes.");
}
