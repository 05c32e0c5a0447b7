using System.Globalization;
using Dynamo.Worker.Engines.Mocker;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Bench;

/// <summary>
/// Everything a step costs except the engine: the mocker's speed-up is so large that its simulated time rounds
/// to zero, so wall time per step is the scheduler (batch building, block manager, events) plus the mocker's
/// token hash and the stream writes.
/// </summary>
internal static class SchedulerOverheadBench
{
    private const int PromptTokens = 128;
    private const int MaxTokens = 512;
    private const int BlockSize = 16;

    public static async Task RunAsync()
    {
        Console.WriteLine($"Scheduler overhead per step, mocker without simulated sleep; prompt {PromptTokens}, {MaxTokens} output tokens per sequence, block size {BlockSize}");
        Console.WriteLine();
        Console.WriteLine("| running sequences | steps | µs per step | steps/s | output tokens/s |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        await MeasureAsync(16);
        foreach (var n in new[] { 1, 32, 256 })
        {
            var (elapsed, steps, tokens) = await MeasureAsync(n);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n} | {steps} | {elapsed.TotalMicroseconds / steps:0.0} | {steps / elapsed.TotalSeconds:0} | {tokens / elapsed.TotalSeconds:0} |"));
        }
    }

    private static async Task<(TimeSpan, long, long)> MeasureAsync(int sequences)
    {
        var blocks = sequences * ((PromptTokens + MaxTokens + BlockSize - 1) / BlockSize + 1);
        using var kv = new KvBlockManager(blocks, BlockSize, "bench", new NoKvBytes(), new NoKvEvents(), TimeProvider.System);
        var mocker = new MockerStepEngine(new MockerOptions { SpeedUp = 1e12 }, TimeProvider.System);
        using var scheduler = new Scheduler(kv, mocker, new SchedulerOptions { MaxNumSeqs = 256, MaxNumBatchedTokens = 8192 }, TimeProvider.System);
        return await BenchStack.RunAsync(scheduler, sequences, PromptTokens, MaxTokens, mocker.VocabSize, SamplingParams.Greedy);
    }
}
