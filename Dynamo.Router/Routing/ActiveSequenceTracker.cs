using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Routing;

/// <summary>Router-side load of one worker: what this router has sent there and not yet seen finish.</summary>
public readonly record struct WorkerActivity(int Sequences, long PrefillTokens, long Blocks)
{
    public static WorkerActivity Idle { get; } = new(0, 0, 0);
}

/// <summary>
/// Tracks requests in flight per worker (DESIGN.md §3): added at dispatch with their uncached prompt tokens and
/// blocks, prefill tokens released at the first token, a block added each time the output fills one, everything
/// released at the end. A sequence never released (a lost stream) stops counting after the stale period, so one bug
/// cannot pin a worker as busy forever.
/// </summary>
public sealed class ActiveSequenceTracker
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _staleAfter;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, WorkerLoad> _workers = new(StringComparer.Ordinal);

    // Dispatch order is expiry order (one stale period for all), so expiry pops from the front in O(1) amortized.
    private readonly Queue<ActiveSequence> _byAge = new();

    public ActiveSequenceTracker(TimeProvider time, TimeSpan staleAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(staleAfter, TimeSpan.Zero);
        _time = time;
        _staleAfter = staleAfter;
    }

    /// <summary>Raised (outside the lock) whenever load goes down: a prefill finished, a sequence ended or expired.</summary>
    public event Action? LoadReleased;

    /// <param name="blockSize">The worker's KV block size; with it, output tokens grow the sequence's blocks (0: they do not).</param>
    /// <param name="tokens">Tokens the sequence holds at dispatch (the prompt), from which output growth counts.</param>
    public ActiveSequence Add(string requestId, string workerId, long prefillTokens, long blocks, int blockSize = 0, long tokens = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefillTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(blocks);
        ArgumentOutOfRangeException.ThrowIfNegative(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        var sequence = new ActiveSequence(this, requestId, workerId, prefillTokens, blocks, _time.GetUtcNow(), blockSize, tokens);
        bool expired;
        lock (_gate)
        {
            expired = ExpireStaleLocked();
            if (!_workers.TryGetValue(workerId, out var load))
            {
                load = new WorkerLoad();
                _workers.Add(workerId, load);
            }

            load.Sequences++;
            load.PrefillTokens += prefillTokens;
            load.Blocks += blocks;
            _byAge.Enqueue(sequence);
        }

        if (expired)
        {
            LoadReleased?.Invoke();
        }

        return sequence;
    }

    public WorkerActivity Get(string workerId)
    {
        bool expired;
        WorkerActivity activity;
        lock (_gate)
        {
            expired = ExpireStaleLocked();
            activity = _workers.TryGetValue(workerId, out var load)
                ? new WorkerActivity(load.Sequences, load.PrefillTokens, load.Blocks)
                : WorkerActivity.Idle;
        }

        if (expired)
        {
            LoadReleased?.Invoke();
        }

        return activity;
    }

    /// <summary>The activity of each of <paramref name="workers"/> into <paramref name="activities"/>, under one lock.</summary>
    /// <remarks>The routing path reads every candidate per decision; one lock instead of one per worker.</remarks>
    public void GetMany(IReadOnlyList<WorkerRegistration> workers, Span<WorkerActivity> activities)
    {
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentOutOfRangeException.ThrowIfLessThan(activities.Length, workers.Count, nameof(activities));
        bool expired;
        lock (_gate)
        {
            expired = ExpireStaleLocked();
            for (var i = 0; i < workers.Count; i++)
            {
                activities[i] = _workers.TryGetValue(workers[i].WorkerId, out var load)
                    ? new WorkerActivity(load.Sequences, load.PrefillTokens, load.Blocks)
                    : WorkerActivity.Idle;
            }
        }

        if (expired)
        {
            LoadReleased?.Invoke();
        }
    }

    /// <summary>Forgets a departed worker's sequences (their handles become no-ops).</summary>
    public void RemoveWorker(string workerId)
    {
        lock (_gate)
        {
            _workers.Remove(workerId);
            foreach (var sequence in _byAge)
            {
                if (string.Equals(sequence.WorkerId, workerId, StringComparison.Ordinal))
                {
                    sequence.State = SequenceState.Ended;
                }
            }
        }

        LoadReleased?.Invoke();
    }

    internal void PrefillDone(ActiveSequence sequence)
    {
        lock (_gate)
        {
            if (sequence.State != SequenceState.Prefilling)
            {
                return;
            }

            sequence.State = SequenceState.Decoding;
            if (_workers.TryGetValue(sequence.WorkerId, out var load))
            {
                load.PrefillTokens -= sequence.PrefillTokens;
            }
        }

        LoadReleased?.Invoke();
    }

    /// <summary>The sequence's output filled another block on its worker: its decode load grows by one block.</summary>
    internal void Grow(ActiveSequence sequence, long blocks)
    {
        lock (_gate)
        {
            if (sequence.State == SequenceState.Ended)
            {
                return;
            }

            sequence.Blocks += blocks;
            if (_workers.TryGetValue(sequence.WorkerId, out var load))
            {
                load.Blocks += blocks;
            }
        }
    }

    internal void End(ActiveSequence sequence)
    {
        lock (_gate)
        {
            if (!ReleaseLocked(sequence))
            {
                return;
            }
        }

        LoadReleased?.Invoke();
    }

    private bool ReleaseLocked(ActiveSequence sequence)
    {
        if (sequence.State == SequenceState.Ended)
        {
            return false;
        }

        if (_workers.TryGetValue(sequence.WorkerId, out var load))
        {
            if (sequence.State == SequenceState.Prefilling)
            {
                load.PrefillTokens -= sequence.PrefillTokens;
            }

            load.Sequences--;
            load.Blocks -= sequence.Blocks;
            if (load.Sequences == 0)
            {
                _workers.Remove(sequence.WorkerId);
            }
        }

        sequence.State = SequenceState.Ended;
        return true;
    }

    private bool ExpireStaleLocked()
    {
        var cutoff = _time.GetUtcNow() - _staleAfter;
        var expired = false;
        while (_byAge.TryPeek(out var oldest) && (oldest.State == SequenceState.Ended || oldest.DispatchedAt <= cutoff))
        {
            _byAge.Dequeue();
            expired |= ReleaseLocked(oldest);
        }

        return expired;
    }

    private sealed class WorkerLoad
    {
        public int Sequences { get; set; }

        public long PrefillTokens { get; set; }

        public long Blocks { get; set; }
    }
}

internal enum SequenceState
{
    Prefilling,
    Decoding,
    Ended,
}

/// <summary>One request on one worker. Idempotent: marking twice or disposing twice counts once.</summary>
public sealed class ActiveSequence : IDisposable
{
    private readonly ActiveSequenceTracker _owner;

    private readonly int _blockSize;
    private long _tokens;

    internal ActiveSequence(
        ActiveSequenceTracker owner, string requestId, string workerId, long prefillTokens, long blocks, DateTimeOffset dispatchedAt, int blockSize, long tokens)
    {
        _owner = owner;
        _blockSize = blockSize;
        _tokens = tokens;
        RequestId = requestId;
        WorkerId = workerId;
        PrefillTokens = prefillTokens;
        Blocks = blocks;
        DispatchedAt = dispatchedAt;
    }

    public string RequestId { get; }

    public string WorkerId { get; }

    public long PrefillTokens { get; }

    /// <summary>Blocks the request holds on its worker: its prompt's at dispatch, one more per block of output.</summary>
    public long Blocks { get; internal set; }

    public DateTimeOffset DispatchedAt { get; }

    internal SequenceState State { get; set; }

    /// <summary>The first token arrived: the worker no longer owes this request's prefill.</summary>
    public void MarkPrefillDone() => _owner.PrefillDone(this);

    /// <summary>
    /// One output token arrived. Called by the one reader of the request's stream; the tracker's lock is taken only
    /// when the token opens a new block (once per block size tokens), so the per-token cost is an add and a compare.
    /// </summary>
    public void TokenGenerated()
    {
        if (_blockSize <= 0)
        {
            return;
        }

        var tokens = ++_tokens;
        var needed = (tokens + _blockSize - 1) / _blockSize;
        var held = Blocks;
        if (needed > held)
        {
            _owner.Grow(this, needed - held);
        }
    }

    /// <summary>The request ended (finished, failed, cancelled or migrated away).</summary>
    public void Dispose() => _owner.End(this);
}
