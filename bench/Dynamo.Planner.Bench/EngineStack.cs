using Dynamo.Worker.Engines.Mocker;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Models;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Planner.Bench;

/// <summary>
/// A worker's engine stack without HTTP, as the worker composes it (block manager, step engine, scheduler): a fresh
/// scheduler and KV cache per measurement, so no measurement inherits another's cached prefixes.
/// </summary>
internal sealed class EngineStack : IDisposable
{
    private readonly Func<(Scheduler Scheduler, IDisposable? Extra)> _create;
    private readonly IDisposable? _owned;
    private readonly List<IDisposable> _perRun = [];

    private EngineStack(string description, Func<(Scheduler, IDisposable?)> create, IDisposable? owned)
    {
        Description = description;
        _create = create;
        _owned = owned;
    }

    public string Description { get; }

    public int VocabSize { get; private init; }

    public long KvCapacityTokens { get; private init; }

    /// <summary>Measured milliseconds × this = engine milliseconds (the mocker's speed-up).</summary>
    public double TimeScale { get; private init; } = 1;

    public IReadOnlyList<int> PrefillLengths { get; private init; } = [];

    public IReadOnlyList<int> DecodeContexts { get; private init; } = [];

    public IReadOnlyList<int> DecodeBatches { get; private init; } = [];

    /// <summary>
    /// The mocker with <paramref name="blocks"/> KV blocks of <paramref name="blockSize"/> tokens (Dynamo's defaults:
    /// 16,384 × 64), 256 sequences, 8,192 tokens per step. Its decode step time depends on the share of the KV cache in
    /// use, so a profile only describes workers with the same KV capacity.
    /// </summary>
    public static EngineStack Mocker(double speedUp, int blocks = 16_384, int blockSize = 64)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blocks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        var options = new MockerOptions { SpeedUp = speedUp };
        return new EngineStack(
            $"mocker engine (DESIGN §6 timing model), {blocks} × {blockSize}-token KV blocks, run at speed-up {speedUp}",
            () =>
            {
                var kv = new KvBlockManager(blocks, blockSize, "profile", new NoKvBytes(), new NoKvEvents(), TimeProvider.System);
                var scheduler = new Scheduler(kv, new MockerStepEngine(options, TimeProvider.System), SchedulerOptions(), TimeProvider.System);
                return (scheduler, kv);
            },
            owned: null)
        {
            VocabSize = options.VocabSize,
            KvCapacityTokens = (long)blocks * blockSize,
            TimeScale = speedUp,
            PrefillLengths = [128, 256, 512, 1024, 2048, 4096, 8192],
            DecodeContexts = [256, 1024, 4096],
            DecodeBatches = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128, 256],
        };
    }

    /// <summary>The native engine on the default generated model (CPU here), with a KV pool sized for the largest cell.</summary>
    public static EngineStack Native()
    {
        const int blockSize = 16;
        var path = LlamaModelGenerator.EnsureDefaultModel(Path.Combine(RepositoryRoot(), "models", "generated"));
        var model = NativeModel.Load(path);
        var info = model.Info;
        var context = Math.Min(info.TrainedContextLength, 2048);
        var blocks = 16 * ((context + blockSize - 1) / blockSize + 4);
        return new EngineStack(
            $"native engine, {Path.GetFileName(path)} ({info.ParameterCount / 1e6:0.0} M parameters, {info.WeightType}), kernels {NativeModel.KernelsName}, {blocks} × {blockSize}-token KV blocks",
            () =>
            {
                var pool = NativeKvPool.Create(model, blocks, blockSize);
                var engine = NativeEngine.Create(model, pool, new NativeEngineOptions { MaxBatchTokens = 8192 });
                var kv = new KvBlockManager(blocks, blockSize, "profile", new NativeKvBlockIo(pool), new NoKvEvents(), TimeProvider.System);
                var step = new NativeStepEngine(engine, new Sampler(info.VocabSize), new FixedSeeds());
                var scheduler = new Scheduler(kv, step, SchedulerOptions(), TimeProvider.System);
                return (scheduler, new Disposables(kv, engine, pool));
            },
            owned: model)
        {
            VocabSize = info.VocabSize,
            KvCapacityTokens = (long)blocks * blockSize,
            PrefillLengths = [.. new[] { 16, 64, 256, 512, 1024 }.Where(l => l < context)],
            DecodeContexts = [.. new[] { 64, 256 }.Where(l => l < context / 2)],
            DecodeBatches = [1, 4, 8, 16],
        };
    }

    public Scheduler CreateScheduler()
    {
        var (scheduler, extra) = _create();
        if (extra is not null)
        {
            _perRun.Add(extra);
        }

        return scheduler;
    }

    public void Dispose()
    {
        foreach (var item in _perRun)
        {
            item.Dispose();
        }

        _owned?.Dispose();
    }

    private static SchedulerOptions SchedulerOptions() => new() { MaxNumSeqs = 256, MaxNumBatchedTokens = 8192 };

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dynamo.Aspire.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Run from a checkout: no Dynamo.Aspire.sln above " + AppContext.BaseDirectory);
    }

    private sealed class Disposables(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
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
