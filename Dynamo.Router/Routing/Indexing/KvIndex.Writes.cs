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

        // The lowest free slot first, so slots stay dense and bitsets short however often workers come and go.
        var names = _slotNames;
        string?[] next;
        if (_freeSlots.TryDequeue(out var slot, out _))
        {
            next = (string?[])names.Clone();
        }
        else
        {
            slot = names.Length;
            next = new string?[names.Length + 1];
            names.CopyTo(next, 0);
        }

        next[slot] = workerId;

        // Cells first: a reader that sees the new name must find a bit for its slot.
        _table.EnsureSlots(next.Length);
        _slotNames = next;
        part = new WorkerPart(slot);
        _workers[workerId] = part;
        return part;
    }

    // Called after the worker's bits are cleared: the slot is empty in every node before another worker can get it.
    private void FreeSlot(int slot)
    {
        var next = (string?[])_slotNames.Clone();
        next[slot] = null;
        _slotNames = next;
        _freeSlots.Enqueue(slot, slot);
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

    private void UpdateHolders(ulong hash, int slot, byte tiers) => _table.SetHolder(hash, slot, tiers);
}
