using System.Globalization;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Models;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Bench;

/// <summary>
/// Swap against recompute preemption on the native default model: a KV pool that holds about half of what the
/// concurrent requests need, so sequences are preempted again and again; same requests, both modes.
/// </summary>
internal static class PreemptionBench
{
    private const int PromptTokens = 128;
    private const int MaxTokens = 128;
    private const int BlockSize = 16;
    private const int Concurrency = 8;

    public static async Task RunAsync()
    {
        var path = LlamaModelGenerator.EnsureDefaultModel(NativeThroughputBench.DefaultModelDirectory());
        using var model = NativeModel.Load(path);
        var perRequest = (PromptTokens + MaxTokens + BlockSize - 1) / BlockSize;
        var blocks = Concurrency * perRequest / 2;
        Console.WriteLine($"Preemption, native default model: {Concurrency} requests of {PromptTokens} prompt + {MaxTokens} output tokens (greedy), "
            + $"KV pool {blocks} blocks of {BlockSize} tokens ({perRequest} per request)");
        Console.WriteLine();
        Console.WriteLine("| mode | seconds | output tokens/s | preemptions | computed prompt tokens | steps |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var mode in new[] { PreemptionMode.Recompute, PreemptionMode.Swap })
        {
            using var pool = NativeKvPool.Create(model, blocks, BlockSize);
            using var engine = NativeEngine.Create(model, pool, new NativeEngineOptions { MaxBatchTokens = 8192 });
            var step = new NativeStepEngine(engine, new Sampler(model.Info.VocabSize), new FixedSeeds());
            var io = new NativeKvBlockIo(pool);
            using var swap = new HostBlockStore((long)blocks * io.BlockBytes, io.BlockBytes);
            using var kv = new KvBlockManager(blocks, BlockSize, "bench", io, new NoKvEvents(), TimeProvider.System, swapSpace: swap);
            using var scheduler = new Scheduler(kv, step, new SchedulerOptions { Preemption = mode }, TimeProvider.System);
            var (elapsed, steps, tokens) = await BenchStack.RunAsync(scheduler, Concurrency, PromptTokens, MaxTokens, model.Info.VocabSize, SamplingParams.Greedy);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {mode.ToString().ToLowerInvariant()} | {elapsed.TotalSeconds:0.00} | {tokens / elapsed.TotalSeconds:0.0} | {scheduler.Preemptions} | {scheduler.ComputedPromptTokens} | {steps} |"));
        }
    }
}
