using System.Buffers.Binary;
using System.Text.Json.Serialization;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Logging;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Writes the index to the state plane (one document per worker: its last event id and its blocks with tiers) and
/// loads it back, so a restarted router routes well at once and resumes each worker's event stream where the
/// snapshot left it (a gap from there asks for a dump as usual). Blocks are packed 9 bytes each (hash, tier mask)
/// and carried as base64: a million blocks is 12 MB of JSON instead of ~30 MB of number arrays.
/// </summary>
internal sealed class KvIndexSnapshotStore(IStateStore store, string collection, TimeProvider time, ILogger logger)
{
    private const int BytesPerBlock = 9;

    // Part versions last written, so an idle worker is not rewritten every interval.
    private readonly Dictionary<string, long> _written = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _saving = new(1, 1);

    /// <summary>Writes every changed worker part and deletes the documents of workers no longer indexed. Returns parts written.</summary>
    /// <exception cref="StatePlaneUnavailableException">Redis is unreachable.</exception>
    public async Task<int> SaveAsync(KvIndex index, CancellationToken cancellationToken)
    {
        await _saving.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var written = 0;
            var live = new HashSet<string>(StringComparer.Ordinal);
            foreach (var workerId in index.Workers)
            {
                live.Add(workerId);
                if (index.PartVersion(workerId) is not { } version
                    || (_written.TryGetValue(workerId, out var last) && last == version)
                    || index.ExportWorker(workerId) is not { } part)
                {
                    continue;
                }

                await store.SetAsync(collection, workerId, ToDocument(part), SnapshotJsonContext.Default.KvIndexSnapshotDocument, cancellationToken)
                    .ConfigureAwait(false);
                _written[workerId] = part.Version;
                written++;
            }

            // Every stored document is known here (loaded or written by this process), so no listing is needed to prune.
            foreach (var workerId in _written.Keys.Where(id => !live.Contains(id)).ToList())
            {
                await store.DeleteAsync(collection, workerId, cancellationToken).ConfigureAwait(false);
                _written.Remove(workerId);
            }

            return written;
        }
        finally
        {
            _saving.Release();
        }
    }

    /// <summary>
    /// Imports every stored worker part; with <paramref name="liveWorkers"/>, parts of workers not in it are skipped
    /// (they left while this router was down). Returns the parts imported.
    /// </summary>
    /// <exception cref="StatePlaneUnavailableException">Redis is unreachable.</exception>
    public async Task<int> LoadAsync(KvIndex index, IReadOnlySet<string>? liveWorkers, CancellationToken cancellationToken)
    {
        var stored = await store.ListAsync(collection, SnapshotJsonContext.Default.KvIndexSnapshotDocument, cancellationToken).ConfigureAwait(false);
        var imported = 0;
        foreach (var (workerId, document) in stored)
        {
            // Remembered with an impossible version, so the next save deletes what it skips here.
            _written[workerId] = -1;
            if (liveWorkers is not null && !liveWorkers.Contains(workerId))
            {
                RoutingLog.SnapshotEntrySkipped(logger, workerId, "the worker is no longer registered");
                continue;
            }

            if (document.Version != KvIndexSnapshotDocument.CurrentVersion || document.Blocks.Length % BytesPerBlock != 0)
            {
                RoutingLog.SnapshotEntrySkipped(logger, workerId, $"unreadable entry (version {document.Version}, {document.Blocks.Length} bytes)");
                continue;
            }

            index.ImportWorker(FromDocument(workerId, document));
            _written[workerId] = index.PartVersion(workerId) ?? 0;
            imported++;
        }

        RoutingLog.SnapshotLoaded(logger, imported, index.DistinctBlocks);
        return imported;
    }

    private KvIndexSnapshotDocument ToDocument(KvWorkerPart part)
    {
        var packed = new byte[part.Blocks.Count * BytesPerBlock];
        for (var i = 0; i < part.Blocks.Count; i++)
        {
            var at = i * BytesPerBlock;
            BinaryPrimitives.WriteUInt64LittleEndian(packed.AsSpan(at), part.Blocks[i].SequenceHash);
            packed[at + 8] = part.Blocks[i].Tiers;
        }

        return new KvIndexSnapshotDocument(KvIndexSnapshotDocument.CurrentVersion, part.LastEventId, time.GetUtcNow(), part.Blocks.Count, packed);
    }

    private static KvWorkerPart FromDocument(string workerId, KvIndexSnapshotDocument document)
    {
        var blocks = new KvHeldBlock[document.Blocks.Length / BytesPerBlock];
        for (var i = 0; i < blocks.Length; i++)
        {
            var at = i * BytesPerBlock;
            blocks[i] = new KvHeldBlock(BinaryPrimitives.ReadUInt64LittleEndian(document.Blocks.AsSpan(at)), document.Blocks[at + 8]);
        }

        return new KvWorkerPart(workerId, document.LastEventId, 0, blocks);
    }
}

/// <summary>One worker's part of the index as stored in Redis.</summary>
internal sealed record KvIndexSnapshotDocument(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("last_event_id")] long LastEventId,
    [property: JsonPropertyName("written_at")] DateTimeOffset WrittenAt,
    [property: JsonPropertyName("block_count")] int BlockCount,
    [property: JsonPropertyName("blocks")] byte[] Blocks)
{
    public const int CurrentVersion = 1;
}

[JsonSerializable(typeof(KvIndexSnapshotDocument))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;
