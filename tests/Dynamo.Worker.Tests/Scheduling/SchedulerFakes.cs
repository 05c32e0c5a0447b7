using System.Threading.Channels;
using Dynamo.Worker.Engines.Mocker;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Scheduling;
using Dynamo.Worker.Tests.KvCache;

namespace Dynamo.Worker.Tests.Scheduling;

/// <summary>A clock that jumps forward by each timer's due time and fires it at once, so simulated waits cost nothing.</summary>
internal sealed class InstantTimeProvider : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long _ticks;

    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public override DateTimeOffset GetUtcNow() => Epoch + Elapsed;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (period != Timeout.InfiniteTimeSpan)
        {
            throw new NotSupportedException("InstantTimeProvider only supports one-shot timers (Task.Delay).");
        }

        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            Interlocked.Add(ref _ticks, dueTime.Ticks);
            ThreadPool.QueueUserWorkItem(static s => s.callback(s.state), (callback, state), preferLocal: false);
        }

        return new FiredTimer();
    }

    private sealed class FiredTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) =>
            throw new NotSupportedException("InstantTimeProvider timers fire once and cannot be rescheduled.");

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

internal sealed record RecordedItem(long SequenceId, int Tokens, int Start, bool WantLogits);

internal sealed record RecordedStep(int Index, IReadOnlyList<RecordedItem> Items, int TokenCount);

/// <summary>Wraps the mocker, records every batch and lets a test act before a given step.</summary>
internal sealed class RecordingStepEngine(IStepEngine inner) : IStepEngine
{
    private readonly List<RecordedStep> _steps = [];

    public Func<int, ValueTask>? BeforeStep { get; set; }

    public int VocabSize => inner.VocabSize;

    public void Admit(long sequenceId, ReadOnlySpan<int> prompt, SamplingParams sampling) => inner.Admit(sequenceId, prompt, sampling);

    public void Release(long sequenceId) => inner.Release(sequenceId);

    public IReadOnlyList<RecordedStep> Steps
    {
        get
        {
            lock (_steps)
            {
                return [.. _steps];
            }
        }
    }

    public async ValueTask ExecuteAsync(StepBatch batch, CancellationToken cancellationToken)
    {
        int index;
        lock (_steps)
        {
            index = _steps.Count;
            _steps.Add(new RecordedStep(
                index,
                [.. batch.Items.Select(static i => new RecordedItem(i.SequenceId, i.Tokens.Length, i.StartPosition, i.WantLogits))],
                batch.TokenCount));
        }

        if (BeforeStep is { } before)
        {
            await before(index);
        }

        await inner.ExecuteAsync(batch, cancellationToken);
    }
}

/// <summary>A scheduler over a real block manager and the mocker on an instant clock, with its loop running.</summary>
internal sealed class SchedulerHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly HostBlockStore? _swap;
    private Task? _loop;

    public SchedulerHarness(int blocks, int blockSize, SchedulerOptions? options = null, bool start = true, int swapBlocks = 0)
    {
        Time = new InstantTimeProvider();
        var io = new FakeBlockIo(blocks);
        _swap = swapBlocks > 0 ? new HostBlockStore((long)swapBlocks * io.BlockBytes, io.BlockBytes) : null;
        Kv = new KvBlockManager(blocks, blockSize, "worker-test", io, new RecordingSink(), Time, swapSpace: _swap);
        Mocker = new MockerStepEngine(new MockerOptions { SpeedUp = 10 }, Time);
        Engine = new RecordingStepEngine(Mocker);
        Scheduler = new Scheduler(Kv, Engine, options ?? new SchedulerOptions(), Time);
        if (start)
        {
            Start();
        }
    }

    public InstantTimeProvider Time { get; }

    public KvBlockManager Kv { get; }

    public MockerStepEngine Mocker { get; }

    public RecordingStepEngine Engine { get; }

    public Scheduler Scheduler { get; }

    public void Start() => _loop = Task.Run(() => Scheduler.RunAsync(_stop.Token));

    public static SchedulerRequest Request(string id, int[] prompt, int maxTokens, int priority = 0) =>
        new(id, prompt, maxTokens, SamplingParams.Greedy, priority);

    public static int[] Prompt(int length, int first = 100) => [.. Enumerable.Range(first, length)];

    public static async Task<List<SchedulerOutput>> ReadAllAsync(ChannelReader<SchedulerOutput> reader)
    {
        var outputs = new List<SchedulerOutput>();
        await foreach (var output in reader.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            outputs.Add(output);
        }

        return outputs;
    }

    /// <summary>Reads a whole stream; the timeout only guards against a hung loop, it asserts nothing about speed.</summary>
    public static Task<List<SchedulerOutput>> CompleteAsync(ChannelReader<SchedulerOutput> reader) =>
        ReadAllAsync(reader).WaitAsync(TimeSpan.FromSeconds(60));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(30));
        }

        Scheduler.Dispose();
        Kv.Dispose();
        _swap?.Dispose();
        _stop.Dispose();
    }
}
