using Dynamo.Runtime.Contracts;

namespace Dynamo.Worker.KvCache;

/// <summary>Receives the block manager's KV event batches (the worker publishes them on the event plane).</summary>
public interface IKvEventSink
{
    /// <summary>Called on the scheduler thread; implementations hand the batch off rather than block.</summary>
    void Publish(KvEventBatch batch);
}

/// <summary>
/// Collects the events of one block-manager operation and publishes them as one batch with the next event id.
/// Consecutive stores that continue each other's chain in the same tier merge into one <see cref="KvStored"/>.
/// </summary>
internal sealed class KvEventBuffer(string workerId, IKvEventSink sink, TimeProvider time)
{
    private readonly List<KvEvent> _events = [];
    private List<KvStoredBlock>? _openStored;
    private KvTier _openStoredTier;
    private List<ulong>? _openRemoved;
    private KvTier _openRemovedTier;

    public long LastEventId { get; private set; }

    public void Stored(ulong? parentHash, ulong seqHash, ulong localHash, KvTier tier)
    {
        _openRemoved = null;
        if (_openStored is not null && _openStoredTier == tier && parentHash == _openStored[^1].SeqHash)
        {
            _openStored.Add(new KvStoredBlock(seqHash, localHash));
            return;
        }

        _openStored = [new KvStoredBlock(seqHash, localHash)];
        _openStoredTier = tier;
        _events.Add(new KvStored(parentHash, _openStored, tier));
    }

    public void Removed(ulong seqHash, KvTier tier)
    {
        _openStored = null;
        if (_openRemoved is not null && _openRemovedTier == tier)
        {
            _openRemoved.Add(seqHash);
            return;
        }

        _openRemoved = [seqHash];
        _openRemovedTier = tier;
        _events.Add(new KvRemoved(_openRemoved, tier));
    }

    public void Cleared()
    {
        _openStored = null;
        _openRemoved = null;
        _events.Add(new KvCleared());
    }

    /// <summary>Publishes what this operation produced, if anything; ids rise by one per published batch.</summary>
    public void Flush()
    {
        _openStored = null;
        _openRemoved = null;
        if (_events.Count == 0)
        {
            return;
        }

        var batch = new KvEventBatch(workerId, ++LastEventId, time.GetUtcNow(), _events.ToArray());
        _events.Clear();
        sink.Publish(batch);
    }
}
