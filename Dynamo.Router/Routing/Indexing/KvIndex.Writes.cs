using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>The write side of <see cref="KvIndex"/>: every method here runs under the writer lock.</summary>
public sealed partial class KvIndex
{
    private void ApplyOne(WorkerPart part, KvEvent change)
    {
        switch (change)
        {
            case KvStored stored:
                var bit = KvTierMask.Of(stored.Tier ?? KvTier.Device);
                foreach (var block in stored.Blocks)
                {
                    part.Blocks.TryGetValue(block.SeqHash, out var tiers);
                    SetTiers(part, block.SeqHash, (byte)(tiers | bit));
                }

                break;
            case KvRemoved removed:
                var clear = removed.Tier is { } tier ? KvTierMask.Of(tier) : KvTierMask.All;
                foreach (var hash in removed.SeqHashes)
                {
                    if (part.Blocks.TryGetValue(hash, out var tiers))
                    {
                        SetTiers(part, hash, (byte)(tiers & ~clear));
                    }
                }

                break;
            case KvCleared:
                ClearPart(part);
                break;
            default:
                throw new NotSupportedException($"The KV event {change.GetType().Name} is not known to the router's index.");
        }
    }

    private WorkerPart PartFor(string workerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        if (_workers.TryGetValue(workerId, out var part))
        {
            return part;
        }

        // A worker that comes back under the same id keeps its slot, so slots never multiply with churn.
        var names = _slotNames;
        var slot = Array.IndexOf(names, workerId);
        if (slot < 0)
        {
            slot = names.Length;
            _slotNames = [.. names, workerId];
        }

        part = new WorkerPart(slot);
        _workers[workerId] = part;
        return part;
    }

    private void ClearPart(WorkerPart part)
    {
        foreach (var hash in part.Blocks.Keys)
        {
            UpdateHolders(hash, part.Slot, 0);
        }

        part.Blocks.Clear();
        part.Count = 0;
    }

    private void SetTiers(WorkerPart part, ulong hash, byte tiers)
    {
        part.Blocks.TryGetValue(hash, out var current);
        if (current == tiers)
        {
            return;
        }

        if (tiers == 0)
        {
            part.Blocks.Remove(hash);
        }
        else
        {
            part.Blocks[hash] = tiers;
        }

        part.Count = part.Blocks.Count;

        UpdateHolders(hash, part.Slot, tiers);
    }

    private void UpdateHolders(ulong hash, int slot, byte tiers)
    {
        _blocks.TryGetValue(hash, out var holders);
        holders ??= [];
        var at = IndexOfSlot(holders, slot);
        Holder[] next;
        if (tiers == 0)
        {
            if (at < 0)
            {
                return;
            }

            if (holders.Length == 1)
            {
                _blocks.TryRemove(hash, out _);
                Interlocked.Decrement(ref _distinctBlocks);
                return;
            }

            next = new Holder[holders.Length - 1];
            Array.Copy(holders, 0, next, 0, at);
            Array.Copy(holders, at + 1, next, at, holders.Length - at - 1);
        }
        else if (at >= 0)
        {
            next = (Holder[])holders.Clone();
            next[at] = new Holder(slot, tiers);
        }
        else
        {
            var insert = ~at;
            next = new Holder[holders.Length + 1];
            Array.Copy(holders, 0, next, 0, insert);
            next[insert] = new Holder(slot, tiers);
            Array.Copy(holders, insert, next, insert + 1, holders.Length - insert);
            if (holders.Length == 0)
            {
                Interlocked.Increment(ref _distinctBlocks);
            }
        }

        _blocks[hash] = next;
    }

    private static int IndexOfSlot(Holder[] holders, int slot)
    {
        int lo = 0, hi = holders.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var s = holders[mid].Slot;
            if (s == slot)
            {
                return mid;
            }

            if (s < slot)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }
}
