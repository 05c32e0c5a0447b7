using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Dynamo.Worker.KvCache;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dynamo.Worker.Scheduling;

/// <summary>
/// Continuous batching: every iteration keeps the running sequences going (a prefill chunk or one decode token
/// each), admits waiting requests by priority then arrival while <see cref="SchedulerOptions.MaxNumSeqs"/> and
/// the <see cref="SchedulerOptions.MaxNumBatchedTokens"/> budget allow, runs one engine step and streams the
/// sampled tokens. When KV blocks run out a decode step preempts the worst running sequence, by swap or recompute
/// (<see cref="SchedulerOptions.Preemption"/>).
/// </summary>
/// <remarks>
/// <see cref="RunAsync"/> is the only code that touches the block manager and the queues, so they need no locks
/// (the block manager is single-threaded by contract). <see cref="Submit"/> is thread-safe: it hands requests
/// to the loop through an inbox channel.
/// </remarks>
public sealed partial class Scheduler : IDisposable
{
    private readonly KvBlockManager _kv;
    private readonly IStepEngine _engine;
    private readonly SchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SchedulerMetrics _metrics;

    // Unbounded on purpose: the bound is _queued, which counts the inbox and the waiting set together.
    private readonly Channel<SchedulerSequence> _inbox =
        Channel.CreateUnbounded<SchedulerSequence>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SortedSet<SchedulerSequence> _waiting = new(SchedulerSequence.ByPriority);
    private readonly List<SchedulerSequence> _running = [];
    private int _queued;
    private int _runningCount;
    private long _nextId;

    public Scheduler(
        KvBlockManager kv,
        IStepEngine engine,
        SchedulerOptions options,
        TimeProvider time,
        ILogger<Scheduler>? logger = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(kv);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxNumSeqs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxNumBatchedTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.WaitingCapacity);
        _kv = kv;
        _engine = engine;
        _options = options;
        _time = time;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _metrics = new SchedulerMetrics(meterFactory, () => Volatile.Read(ref _runningCount), () => Volatile.Read(ref _queued));
    }

    public int Running => Volatile.Read(ref _runningCount);

    /// <summary>Requests not yet admitted (including preempted ones waiting to be recomputed).</summary>
    public int Waiting => Volatile.Read(ref _queued);

    public long ComputedPromptTokens => _metrics.ComputedPromptTokens;

    /// <summary>Preemptions of either kind.</summary>
    public long Preemptions => _metrics.Preemptions;

    /// <summary>Preemptions that swapped the victim's K/V out rather than dropping it.</summary>
    public long SwapPreemptions => _metrics.SwapPreemptions;

    public long Steps => _metrics.Steps;

    /// <summary>
    /// Queues a request and returns its token stream. The stream completes after the token carrying the finish
    /// reason, or with <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires
    /// (the blocks are freed at the next iteration boundary).
    /// </summary>
    /// <exception cref="SchedulerFullException">The waiting queue is at capacity.</exception>
    public ChannelReader<SchedulerOutput> Submit(SchedulerRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.PromptTokens is not { Length: > 0 })
        {
            throw new ArgumentException("A request needs at least one prompt token.", nameof(request));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(request.MaxTokens);
        ArgumentNullException.ThrowIfNull(request.Sampling);
        request.Sampling.Validate(_engine.VocabSize);
        foreach (var token in request.PromptTokens)
        {
            if ((uint)token >= (uint)_engine.VocabSize)
            {
                throw new ArgumentException($"Prompt token {token} is outside the model's vocabulary (0-{_engine.VocabSize - 1}).", nameof(request));
            }
        }

        var blocks = _kv.BlocksFor(request.PromptTokens.Length + request.MaxTokens);
        if (blocks > _kv.TotalBlocks)
        {
            throw new ArgumentException(
                $"Prompt ({request.PromptTokens.Length}) plus max_tokens ({request.MaxTokens}) needs {blocks} KV blocks; the worker has {_kv.TotalBlocks}.",
                nameof(request));
        }

        if (Interlocked.Increment(ref _queued) > _options.WaitingCapacity)
        {
            Interlocked.Decrement(ref _queued);
            throw new SchedulerFullException(_options.WaitingCapacity, _options.RetryAfter);
        }

        var sequence = new SchedulerSequence(Interlocked.Increment(ref _nextId), request);
        if (cancellationToken.CanBeCanceled)
        {
            sequence.Registration = cancellationToken.Register(static s => ((SchedulerSequence)s!).Cancel(), sequence);
        }

        _inbox.Writer.TryWrite(sequence);
        return sequence.Output.Reader;
    }

    /// <summary>The scheduler loop; run it once (the host starts it on its own task). Ends when stopped.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                DrainInbox();
                RunInvocations();
                RemoveCancelled();
                if (_running.Count == 0 && _waiting.Count == 0)
                {
                    await WaitForWorkAsync(stoppingToken).ConfigureAwait(false);
                    continue;
                }

                await StepAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            FailAll(new OperationCanceledException("The scheduler stopped.", stoppingToken));
        }
        catch (Exception ex)
        {
            LogLoopFailed(ex);
            FailAll(ex);
            throw;
        }
        finally
        {
            StopInvocations();
        }
    }

    public void Dispose() => _metrics.Dispose();

    private async Task StepAsync(CancellationToken stoppingToken)
    {
        var batch = new StepBatch();
        var scheduled = new List<SchedulerSequence>();
        var budget = _options.MaxNumBatchedTokens;
        var preempted = ScheduleRunning(batch, scheduled, ref budget);
        if (!preempted)
        {
            AdmitWaiting(batch, scheduled, ref budget);
        }

        if (scheduled.Count == 0)
        {
            throw new InvalidOperationException("The scheduler found nothing to run although sequences are queued; the KV pool is smaller than a request.");
        }

        var active = 0L;
        foreach (var sequence in _running)
        {
            active += sequence.Computed + (sequence.IsPrefilling ? 0 : 1);
        }

        batch.ActiveKvTokens = active + batch.PrefillTokens;
        batch.TotalKvTokens = (long)_kv.TotalBlocks * _kv.BlockSize;
        var started = _time.GetTimestamp();
        await _engine.ExecuteAsync(batch, stoppingToken).ConfigureAwait(false);
        _metrics.Step(_time.GetElapsedTime(started));
        Volatile.Write(ref _runningCount, _running.Count);
        for (var i = 0; i < scheduled.Count; i++)
        {
            var sequence = scheduled[i];
            var item = batch.Items[i];
            if (sequence.IsPrefilling)
            {
                _metrics.PromptTokens(item.Tokens.Length);
            }

            sequence.Computed += item.Tokens.Length;
            _kv.MarkComputed(sequence.Id, sequence.Computed);
            ExportRemoteKv(sequence);
            if (item.WantLogits)
            {
                OnToken(sequence, batch.Sampled(i), batch.Logprobs(i));
            }
        }

        Volatile.Write(ref _runningCount, _running.Count);
    }

    private void DrainInbox()
    {
        while (_inbox.Reader.TryRead(out var sequence))
        {
            _waiting.Add(sequence);
        }
    }

    private void RemoveCancelled()
    {
        for (var i = _running.Count - 1; i >= 0; i--)
        {
            var sequence = _running[i];
            if (sequence.IsCancelled)
            {
                _kv.Free(sequence.Id);
                _engine.Release(sequence.Id);
                _running.RemoveAt(i);
                sequence.Complete(new OperationCanceledException($"Request {sequence.Request.Id} was cancelled."));
            }
        }

        if (_waiting.Count > 0)
        {
            foreach (var sequence in _waiting.Where(static s => s.IsCancelled).ToList())
            {
                _waiting.Remove(sequence);
                Interlocked.Decrement(ref _queued);
                DiscardSwapped(sequence);
                if (sequence.CachedTokens >= 0)
                {
                    _engine.Release(sequence.Id);
                }

                sequence.Complete(new OperationCanceledException($"Request {sequence.Request.Id} was cancelled."));
            }
        }

        Volatile.Write(ref _runningCount, _running.Count);
    }

    private void FailAll(Exception error)
    {
        DrainInbox();
        foreach (var sequence in _running.Concat(_waiting))
        {
            DiscardSwapped(sequence);
            if (sequence.CachedTokens >= 0)
            {
                _engine.Release(sequence.Id);
            }

            sequence.Complete(error);
        }
    }

    private void DiscardSwapped(SchedulerSequence sequence)
    {
        if (sequence.Swapped is { } swapped)
        {
            _kv.DiscardSwapped(swapped);
            sequence.Swapped = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Preempted request {RequestId} by swap after {Generated} tokens ({Blocks} blocks to host memory)")]
    private partial void LogSwappedOut(string requestId, int generated, int blocks);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Preempted request {RequestId} by recompute after {Generated} tokens")]
    private partial void LogPreempted(string requestId, int generated);

    [LoggerMessage(Level = LogLevel.Error, Message = "The scheduler loop failed; all queued and running requests were failed")]
    private partial void LogLoopFailed(Exception exception);
}
