using System.Threading.Channels;

namespace Dynamo.Worker.Disaggregation;

/// <summary>
/// Prefill side of one transfer: the scheduler loop copies each newly computed full block into its slot and
/// publishes the index; the push reads published indices and sends those slots. The byte buffer is sized for the
/// whole prompt up front (and counted against <see cref="DisaggregationOptions.MaxBufferedBytes"/>), so the loop
/// never waits on the network.
/// </summary>
public sealed class KvExportSink : IDisposable
{
    private readonly byte[]? _bytes;
    private readonly Channel<int> _ready;
    private Action? _release;
    private volatile bool _closed;
    private volatile int _exported;

    /// <param name="blockBytes">Bytes per block; 0 exports hashes only (the mocker).</param>
    /// <param name="release">Returns the buffer's reservation; called once, on <see cref="Close"/>.</param>
    public KvExportSink(int blockCount, int blockBytes, Action? release = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockCount);
        ArgumentOutOfRangeException.ThrowIfNegative(blockBytes);
        BlockCount = blockCount;
        BlockBytes = blockBytes;
        _bytes = blockBytes > 0 ? GC.AllocateUninitializedArray<byte>(checked(blockCount * blockBytes)) : null;
        _release = release;

        // Bounded by the prompt's block count: the loop's TryWrite can never find it full.
        _ready = Channel.CreateBounded<int>(new BoundedChannelOptions(Math.Max(1, blockCount)) { SingleReader = true, SingleWriter = true });
        if (blockCount == 0)
        {
            _ready.Writer.TryComplete();
        }
    }

    public int BlockCount { get; }

    public int BlockBytes { get; }

    public bool HasBytes => _bytes is not null;

    /// <summary>Blocks published so far (they are published in order).</summary>
    public int Exported => _exported;

    /// <summary>The transfer ended (done, failed or cancelled): the loop stops exporting.</summary>
    public bool IsClosed => _closed;

    public bool IsComplete => _exported == BlockCount;

    /// <summary>Indices of blocks ready to send, in order; completes after the last one or on <see cref="Close"/>.</summary>
    public ChannelReader<int> Ready => _ready.Reader;

    public ReadOnlyMemory<byte> Block(int index) => _bytes.AsMemory(index * BlockBytes, BlockBytes);

    public void Close()
    {
        _closed = true;
        _ready.Writer.TryComplete();
        Interlocked.Exchange(ref _release, null)?.Invoke();
    }

    public void Dispose() => Close();

    internal Span<byte> Slot(int index) => _bytes.AsSpan(index * BlockBytes, BlockBytes);

    internal void Publish(int index)
    {
        if (index != _exported)
        {
            throw new InvalidOperationException($"Block {index} published out of order (expected {_exported}).");
        }

        _exported = index + 1;
        _ready.Writer.TryWrite(index);
        if (_exported == BlockCount)
        {
            _ready.Writer.TryComplete();
        }
    }
}
