using System.Diagnostics.Metrics;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Guided;
using Dynamo.Runtime.Tokenization;
using Dynamo.Worker.Engines.Mocker;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Engines.OpenAi;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.Events;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Scheduling;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Hosting;

/// <summary>
/// Composes the serving stack at start (engine, KV pool, block manager, scheduler) and runs the scheduler loop on
/// its own task until shutdown. The pool holds exactly <see cref="WorkerOptions.KvCapacityBlocks"/> blocks of
/// <see cref="WorkerOptions.BlockSize"/> tokens, which is what the worker's registration advertises.
/// </summary>
public sealed partial class WorkerEngineHost : IHostedService, IDisposable
{
    private readonly WorkerOptions _worker;
    private readonly KvCacheOptions _kvOptions;
    private readonly SchedulerOptions _schedulerOptions;
    private readonly MockerOptions _mockerOptions;
    private readonly WorkerModel _model;
    private readonly KvEventPublisher _events;
    private readonly ISamplingSeedSource _seeds;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly IMeterFactory? _meters;
    private readonly OpenAiEngine _openAi;
    private readonly ILogger<WorkerEngineHost> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Lazy<GuidedTokenTable>? _guidedTokens;
    private NativeKvPool? _pool;
    private NativeEngine? _engine;
    private KvBlockManager? _kv;
    private Scheduler? _scheduler;
    private IGenerationBackend? _backend;
    private Task? _loop;

    public WorkerEngineHost(
        IOptions<WorkerOptions> worker,
        IOptions<KvCacheOptions> kv,
        IOptions<SchedulerOptions> scheduler,
        IOptions<MockerOptions> mocker,
        WorkerModel model,
        KvEventPublisher events,
        ISamplingSeedSource seeds,
        TimeProvider time,
        ILoggerFactory loggers,
        OpenAiEngine openAi,
        IMeterFactory? meters = null)
    {
        _worker = worker.Value;
        _kvOptions = kv.Value;
        _schedulerOptions = scheduler.Value;
        _mockerOptions = mocker.Value;
        _model = model;
        _events = events;
        _seeds = seeds;
        _time = time;
        _loggers = loggers;
        _meters = meters;
        _openAi = openAi;
        _logger = loggers.CreateLogger<WorkerEngineHost>();
    }

    public Scheduler Scheduler => _scheduler ?? throw new InvalidOperationException("The worker's engine has not started.");

    /// <summary>True once started with an engine that runs the local scheduler.</summary>
    public bool HasScheduler => _scheduler is not null;

    public KvBlockManager KvBlocks => _kv ?? throw new InvalidOperationException("The worker's engine has not started.");

    /// <summary>What generation is submitted to: the scheduler, or the openai engine's forwarder.</summary>
    public IGenerationBackend Backend => _backend ?? throw new InvalidOperationException("The worker's engine has not started.");

    /// <summary>The local KV block manager; null when the engine keeps its KV elsewhere (openai).</summary>
    public KvBlockManager? LocalKvBlocks => _kv;

    public int VocabSize { get; private set; }

    /// <summary>Tokens that end generation unless a request sets ignore_eos (EOS, end-of-turn, end-of-message).</summary>
    public IReadOnlySet<int> EndOfGenerationIds { get; private set; } = new HashSet<int>();

    /// <summary>False for engines without logits (the mocker): they reject logprobs rather than invent them.</summary>
    public bool SupportsLogprobs { get; private set; }

    /// <summary>The vocabulary prepared for guided decoding (built on the first guided request); null when the engine has none.</summary>
    public GuidedTokenTable? GuidedTokens => _guidedTokens?.Value;

    /// <summary>Longest prompt plus completion one sequence may have (the engine's context, or the pool for the mocker).</summary>
    public int MaxSequenceTokens { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_worker.Engine == OpenAiEngine.EngineName)
        {
            // The external server keeps its own KV cache: no pool, no block manager, so no KV events either.
            _openAi.Start();
            VocabSize = _openAi.VocabSize;
            MaxSequenceTokens = _openAi.MaxSequenceTokens;
            // The upstream computes logprobs (its Text token mode refuses them itself); EOS is its business too.
            SupportsLogprobs = true;
            _backend = _openAi;
            return Task.CompletedTask;
        }

        var blocks = checked((int)_worker.KvCapacityBlocks);
        var kvOptions = new KvCacheOptions
        {
            WorkerId = _kvOptions.WorkerId,
            BlockCount = blocks,
            BlockSize = _worker.BlockSize,
            HostCacheGb = _kvOptions.HostCacheGb,
            DiskCacheGb = _kvOptions.DiskCacheGb,
            DiskCacheDirectory = _kvOptions.DiskCacheDirectory,
            DiskMinHits = _kvOptions.DiskMinHits,
            SwapSpaceGb = _kvOptions.SwapSpaceGb,
        };
        var events = _events;
        IStepEngine stepEngine;
        IKvBlockIo io;
        switch (_worker.Engine)
        {
            case "native":
                var model = _model.Model;
                _pool = NativeKvPool.Create(model, blocks, _worker.BlockSize);
                _engine = NativeEngine.Create(model, _pool, new NativeEngineOptions { MaxBatchTokens = _schedulerOptions.MaxNumBatchedTokens });
                stepEngine = new NativeStepEngine(_engine, new Sampler(model.Info.VocabSize), _seeds);
                io = new NativeKvBlockIo(_pool);
                MaxSequenceTokens = _engine.MaxContext;
                EndOfGenerationIds = _model.EndOfGenerationIds;
                SupportsLogprobs = true;
                var tokenizer = _model.Tokenizer!;
                _guidedTokens = new(() => GuidedTokenTable.FromTokenizer(tokenizer));
                break;
            case "mocker":
                // The mocker computes no K/V, so there is nothing to offload or swap: its G2/G3 tiers and swap space
                // stay off, and a preemption is charged as a re-prefill in simulated time.
                stepEngine = new MockerStepEngine(_mockerOptions, _time);
                io = new NoKvBlockIo();
                kvOptions.HostCacheGb = 0;
                kvOptions.DiskCacheGb = 0;
                kvOptions.SwapSpaceGb = 0;
                MaxSequenceTokens = int.MaxValue;
                EndOfGenerationIds = new HashSet<int> { _mockerOptions.EosTokenId };
                if (_mockerOptions.GuidedVocabularyPath is { } vocabulary)
                {
                    _guidedTokens = new(() => GuidedTokenTable.FromTokenizer(Tokenizer.FromFile(vocabulary)));
                }

                break;
            default:
                throw new OptionsValidationException(nameof(WorkerOptions), typeof(WorkerOptions),
                    [$"Worker:Engine '{_worker.Engine}' cannot serve generation in this worker (native or mocker)."]);
        }

        VocabSize = stepEngine.VocabSize;
        _kv = KvBlockManager.Create(kvOptions, io, events, _time, _meters);
        _scheduler = new Scheduler(_kv, stepEngine, _schedulerOptions, _time, _loggers.CreateLogger<Scheduler>(), _meters);
        _backend = _scheduler;
        LogStarted(_worker.Engine, blocks, _worker.BlockSize, (long)blocks * io.BlockBytes);
        _loop = Task.Run(() => _scheduler.RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _scheduler?.Dispose();
        _kv?.Dispose();
        _engine?.Dispose();
        _pool?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving with the {Engine} engine: {Blocks} KV blocks of {BlockSize} tokens ({Bytes} bytes in G1)")]
    private partial void LogStarted(string engine, int blocks, int blockSize, long bytes);
}

/// <summary>Block I/O for an engine that keeps no K/V (the mocker); any transfer is a wiring error.</summary>
internal sealed class NoKvBlockIo : IKvBlockIo
{
    public int BlockBytes => 1;

    public void Export(int blockId, Span<byte> destination) =>
        throw new InvalidOperationException("This engine keeps no K/V bytes; KV offload tiers must be disabled for it.");

    public void Import(int blockId, ReadOnlySpan<byte> source) =>
        throw new InvalidOperationException("This engine keeps no K/V bytes; KV offload tiers must be disabled for it.");
}
