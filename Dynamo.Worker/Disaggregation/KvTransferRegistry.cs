using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Disaggregation;

internal enum KvTransferState
{
    /// <summary>Waiting for or receiving blocks.</summary>
    Open,

    /// <summary>Every block arrived intact.</summary>
    Complete,

    /// <summary>The push broke, was refused or expired; the blocks that did arrive are still usable.</summary>
    Failed,

    /// <summary>The decode request took what had arrived (or left); a late push is refused.</summary>
    Detached,
}

/// <summary>One transfer id on the decode side; created by whichever of the push and the decode request comes first.</summary>
internal sealed class KvTransferEntry(string id)
{
    public object Gate { get; } = new();

    public string Id { get; } = id;

    public KvTransferState State { get; set; }

    public KvTransferHeader? Header { get; set; }

    /// <summary>The decode request's own hashes of the prompt's blocks; null until it claims the id.</summary>
    public ulong[]? Expected { get; set; }

    public byte[]? Buffer { get; set; }

    public long Reserved { get; set; }

    /// <summary>Leading blocks received and verified.</summary>
    public int Received { get; set; }

    public string? Failure { get; set; }

    /// <summary>Completes when the entry leaves <see cref="KvTransferState.Open"/>.</summary>
    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ITimer? Expiry { get; set; }
}

/// <summary>
/// The decode worker's rendezvous between pushes (<c>POST /v1/internal/kv/transfers/{id}</c>) and decode requests
/// naming the same id. Either may come first: a push that arrives early is buffered (within
/// <see cref="DisaggregationOptions.MaxBufferedBytes"/>) and kept for twice the transfer timeout; a decode request
/// that arrives early waits. Every entry expires on its own timer, so ids never accumulate.
/// </summary>
public sealed class KvTransferRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, KvTransferEntry> _entries = new(StringComparer.Ordinal);
    private readonly DisaggregationOptions _options;
    private readonly TimeProvider _time;
    private long _buffered;

    public KvTransferRegistry(IOptions<DisaggregationOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
    }

    /// <summary>KV bytes held for transfers on this worker (both directions).</summary>
    public long BufferedBytes => Interlocked.Read(ref _buffered);

    /// <summary>Transfer ids known right now (open, finished or tombstoned).</summary>
    public int Count => _entries.Count;

    /// <summary>Reserves buffer space; false when it would exceed the budget.</summary>
    public bool TryReserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        while (true)
        {
            var current = Interlocked.Read(ref _buffered);
            if (current + bytes > _options.MaxBufferedBytes)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _buffered, current + bytes, current) == current)
            {
                return true;
            }
        }
    }

    public void Unreserve(long bytes) => Interlocked.Add(ref _buffered, -bytes);

    public void Dispose()
    {
        foreach (var entry in _entries.Values)
        {
            entry.Expiry?.Dispose();
            Finish(entry, KvTransferState.Failed, "the worker is stopping");
        }
    }

    /// <summary>A push's header arrived: returns why it is refused, or null and the entry to receive into.</summary>
    internal string? BeginPush(string id, KvTransferHeader header, out KvTransferEntry entry)
    {
        entry = GetOrAdd(id);
        lock (entry.Gate)
        {
            if (entry.State != KvTransferState.Open || entry.Header is not null)
            {
                return entry.State == KvTransferState.Open ? "a push for this transfer id already arrived" : $"the transfer is already {entry.State.ToString().ToLowerInvariant()}";
            }

            entry.Header = header;
            if (entry.Expected is { } expected && HashMismatch(expected, header.SequenceHashes) is { } mismatch)
            {
                FinishLocked(entry, KvTransferState.Failed, mismatch);
                return mismatch;
            }

            var bytes = (long)header.SequenceHashes.Length * header.BlockBytes;
            if (bytes > 0)
            {
                if (!TryReserve(bytes))
                {
                    FinishLocked(entry, KvTransferState.Failed, $"no buffer space for {bytes} bytes");
                    return entry.Failure;
                }

                entry.Reserved = bytes;
                entry.Buffer = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
            }

            return null;
        }
    }

    /// <summary>Block <paramref name="index"/> arrived intact; false when the transfer is no longer wanted.</summary>
    internal bool CommitBlock(KvTransferEntry entry, int index)
    {
        lock (entry.Gate)
        {
            if (entry.State != KvTransferState.Open || index != entry.Received)
            {
                return false;
            }

            entry.Received++;
            return true;
        }
    }

    internal void Complete(KvTransferEntry entry) => Finish(entry, KvTransferState.Complete, null);

    /// <summary>Marks a transfer failed (creating it if no one knew it yet), so a waiting decode request recomputes now.</summary>
    internal void Fail(string id, string reason) => Finish(GetOrAdd(id), KvTransferState.Failed, reason);

    internal void Fail(KvTransferEntry entry, string reason) => Finish(entry, KvTransferState.Failed, reason);

    /// <summary>A decode request names <paramref name="id"/>; null when another request already claimed it.</summary>
    internal KvTransferEntry? Claim(string id, ulong[] expected)
    {
        var entry = GetOrAdd(id);
        lock (entry.Gate)
        {
            if (entry.Expected is not null)
            {
                return null;
            }

            entry.Expected = expected;
            if (entry.State == KvTransferState.Open && entry.Header is { } header && HashMismatch(expected, header.SequenceHashes) is { } mismatch)
            {
                FinishLocked(entry, KvTransferState.Failed, mismatch);
            }

            return entry;
        }
    }

    /// <summary>
    /// The decode request stops waiting: later pushes are refused, and the verified blocks (if any, and if the
    /// prompt matched) go to the caller, who must release them.
    /// </summary>
    internal RemoteKvImport? Detach(KvTransferEntry entry, out KvTransferState outcome, out string? failure)
    {
        lock (entry.Gate)
        {
            outcome = entry.State;
            failure = entry.Failure ?? (entry.State == KvTransferState.Open ? "timed out" : null);
            var usable = entry.Header is { } header && entry.Expected is { } expected && HashMismatch(expected, header.SequenceHashes) is null;
            var blocks = usable ? entry.Received : 0;
            var reserved = entry.Reserved;
            var buffer = entry.Buffer;
            entry.Reserved = 0;
            entry.Buffer = null;
            FinishLocked(entry, KvTransferState.Detached, entry.Failure);
            if (blocks == 0)
            {
                Unreserve(reserved);
                return null;
            }

            return new RemoteKvImport(blocks, entry.Header!.SequenceHashes, buffer, entry.Header.BlockBytes, () => Unreserve(reserved));
        }
    }

    private static string? HashMismatch(ulong[] expected, ulong[] pushed)
    {
        if (expected.Length != pushed.Length)
        {
            return $"the transfer covers {pushed.Length} blocks but the decode request's prompt has {expected.Length}";
        }

        return expected.AsSpan().SequenceEqual(pushed) ? null : "the transfer's block hashes differ from the decode request's prompt";
    }

    private KvTransferEntry GetOrAdd(string id)
    {
        while (true)
        {
            if (_entries.TryGetValue(id, out var existing))
            {
                return existing;
            }

            var entry = new KvTransferEntry(id);
            if (_entries.TryAdd(id, entry))
            {
                var ttl = TimeSpan.FromMilliseconds(2.0 * _options.TransferTimeoutMs);
                entry.Expiry = _time.CreateTimer(static s => ((Tuple<KvTransferRegistry, KvTransferEntry>)s!).Item1.Expire(((Tuple<KvTransferRegistry, KvTransferEntry>)s).Item2),
                    Tuple.Create(this, entry), ttl, Timeout.InfiniteTimeSpan);
                return entry;
            }
        }
    }

    private void Expire(KvTransferEntry entry)
    {
        _entries.TryRemove(new KeyValuePair<string, KvTransferEntry>(entry.Id, entry));
        entry.Expiry?.Dispose();
        lock (entry.Gate)
        {
            // A never-claimed (or abandoned) transfer's bytes go; a detached one's belong to its import.
            Unreserve(entry.Reserved);
            entry.Reserved = 0;
            entry.Buffer = null;
            FinishLocked(entry, KvTransferState.Failed, entry.Failure ?? "expired before a decode request claimed it");
        }
    }

    private static void Finish(KvTransferEntry entry, KvTransferState state, string? failure)
    {
        lock (entry.Gate)
        {
            FinishLocked(entry, state, failure);
        }
    }

    private static void FinishLocked(KvTransferEntry entry, KvTransferState state, string? failure)
    {
        if (entry.State is KvTransferState.Detached || (entry.State is not KvTransferState.Open && state is not KvTransferState.Detached))
        {
            return;
        }

        entry.State = state;
        entry.Failure ??= failure;
        entry.Finished.TrySetResult();
    }
}
