using System.Collections.Concurrent;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Approximate mode (DESIGN.md §3) for workers that publish no KV events (external engines): the router assumes
/// the prefixes it routed to a worker are cached there for a while. Each routed block is remembered for the TTL;
/// past the per-worker cap the least recently routed blocks are forgotten first, as an LRU cache would evict them.
/// </summary>
public sealed class ApproximateKvIndex
{
    private readonly ConcurrentDictionary<string, WorkerCache> _workers = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly int _maxBlocksPerWorker;

    public ApproximateKvIndex(TimeProvider time, TimeSpan ttl, int maxBlocksPerWorker)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBlocksPerWorker, 1);
        _time = time;
        _ttl = ttl;
        _maxBlocksPerWorker = maxBlocksPerWorker;
    }

    /// <summary>Remembers that <paramref name="sequenceHashes"/> were routed to <paramref name="workerId"/> just now.</summary>
    public void Record(string workerId, IReadOnlyList<ulong> sequenceHashes)
    {
        var cache = _workers.GetOrAdd(workerId, static _ => new WorkerCache());
        var expiresAt = _time.GetUtcNow() + _ttl;
        lock (cache)
        {
            Sweep(cache);
            foreach (var hash in sequenceHashes)
            {
                if (cache.Entries.Remove(hash, out var node))
                {
                    cache.Order.Remove(node);
                }

                cache.Entries[hash] = cache.Order.AddLast(new Entry(hash, expiresAt));
            }

            while (cache.Entries.Count > _maxBlocksPerWorker && cache.Order.First is { } oldest)
            {
                cache.Order.RemoveFirst();
                cache.Entries.Remove(oldest.Value.Hash);
            }
        }
    }

    /// <summary>The contiguous prefix of <paramref name="sequenceHashes"/> assumed cached on <paramref name="workerId"/>.</summary>
    public int Overlap(string workerId, IReadOnlyList<ulong> sequenceHashes)
    {
        if (!_workers.TryGetValue(workerId, out var cache))
        {
            return 0;
        }

        lock (cache)
        {
            Sweep(cache);
            var depth = 0;
            while (depth < sequenceHashes.Count && cache.Entries.ContainsKey(sequenceHashes[depth]))
            {
                depth++;
            }

            return depth;
        }
    }

    /// <summary>Blocks assumed cached on <paramref name="workerId"/> (unexpired).</summary>
    public int BlockCount(string workerId)
    {
        if (!_workers.TryGetValue(workerId, out var cache))
        {
            return 0;
        }

        lock (cache)
        {
            Sweep(cache);
            return cache.Entries.Count;
        }
    }

    public void RemoveWorker(string workerId) => _workers.TryRemove(workerId, out _);

    // Entries are appended with "now + TTL", so the list is in expiry order and the expired ones are at the front.
    private void Sweep(WorkerCache cache)
    {
        var now = _time.GetUtcNow();
        while (cache.Order.First is { } oldest && oldest.Value.ExpiresAt <= now)
        {
            cache.Order.RemoveFirst();
            cache.Entries.Remove(oldest.Value.Hash);
        }
    }

    private readonly record struct Entry(ulong Hash, DateTimeOffset ExpiresAt);

    private sealed class WorkerCache
    {
        public Dictionary<ulong, LinkedListNode<Entry>> Entries { get; } = [];

        public LinkedList<Entry> Order { get; } = new();
    }
}
