using System.Globalization;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Models;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Bench;

/// <summary>
/// One native worker's serving stack as WorkerEngineHost composes it (engine, KV pool, block manager, scheduler,
/// sampler) on the default model, without HTTP: aggregate output tokens/s at several concurrencies.
/// </summary>
internal static class NativeThroughputBench
{
    private const int PromptTokens = 64;
    private const int MaxTokens = 64;
    private const int BlockSize = 16;

    public static async Task RunAsync()
    {
        var directory = DefaultModelDirectory();
        var path = LlamaModelGenerator.EnsureDefaultModel(directory);
        using var model = NativeModel.Load(path);
        var info = model.Info;
        Console.WriteLine($"Native worker, default model {Path.GetFileName(path)} ({info.ParameterCount / 1e6:0.0} M parameters, {info.WeightType}), kernels {NativeModel.KernelsName}");
        Console.WriteLine($"prompt {PromptTokens} distinct tokens, {MaxTokens} output tokens per request, greedy; wall time from submit to the last token");
        Console.WriteLine();
        Console.WriteLine("| concurrent requests | output tokens | seconds | output tokens/s | steps | ms per step |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        // The first pass (one short request, not printed) pages the weights in and warms the kernels' thread pool.
        foreach (var pass in new[] { 0, 1, 8, 32 })
        {
            var warmUp = pass == 0;
            var n = Math.Max(pass, 1);
            var blocks = n * ((PromptTokens + MaxTokens + BlockSize - 1) / BlockSize + 1);
            using var pool = NativeKvPool.Create(model, blocks, BlockSize);
            using var engine = NativeEngine.Create(model, pool, new NativeEngineOptions { MaxBatchTokens = 8192 });
            var step = new NativeStepEngine(engine, new Sampler(info.VocabSize), new FixedSeeds());
            using var kv = new KvBlockManager(blocks, BlockSize, "bench", new NativeKvBlockIo(pool), new NoKvEvents(), TimeProvider.System);
            using var scheduler = new Scheduler(kv, step, new SchedulerOptions { MaxNumSeqs = 256, MaxNumBatchedTokens = 8192 }, TimeProvider.System);
            var (elapsed, steps, tokens) = await BenchStack.RunAsync(scheduler, n, PromptTokens, warmUp ? 8 : MaxTokens, info.VocabSize, SamplingParams.Greedy);
            if (warmUp)
            {
                continue;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n} | {tokens} | {elapsed.TotalSeconds:0.00} | {tokens / elapsed.TotalSeconds:0.0} | {steps} | {elapsed.TotalMilliseconds / steps:0.0} |"));
        }
    }

    // models/generated at the repository root, where the worker generates its default model too.
    internal static string DefaultModelDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dynamo.Aspire.sln")))
            {
                return Path.Combine(dir.FullName, "models", "generated");
            }
        }

        throw new DirectoryNotFoundException("Run the bench from a checkout: no Dynamo.Aspire.sln above " + AppContext.BaseDirectory);
    }
}
