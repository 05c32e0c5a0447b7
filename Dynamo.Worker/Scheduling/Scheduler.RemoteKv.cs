using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.KvCache;

namespace Dynamo.Worker.Scheduling;

/// <summary>The disaggregation side of a request (both null in aggregated serving).</summary>
public sealed partial record SchedulerRequest
{
    /// <summary>Decode side: prompt KV received from a prefill worker, imported at the request's first admission.</summary>
    public RemoteKvImport? RemoteKv { get; init; }

    /// <summary>Prefill side: where the prompt's full blocks go as soon as they are computed.</summary>
    public KvExportSink? KvExport { get; init; }
}

/// <summary>
/// Disaggregated serving inside the loop: a decode request imports the prefill worker's blocks instead of
/// computing them, a prefill request exports its blocks as they are computed. Both run on the loop thread, the
/// only one that may touch the block manager and the engine's pool.
/// </summary>
public sealed partial class Scheduler
{
    private long _importedPromptTokens;

    /// <summary>Prompt tokens whose KV was imported from a prefill worker rather than computed here.</summary>
    public long ImportedPromptTokens => Interlocked.Read(ref _importedPromptTokens);

    /// <summary>
    /// After a decode request's blocks are allocated: writes the received blocks the local prefix cache did not
    /// already have into the sequence's own blocks and registers them (Stored events, prefix reuse). Stops at the
    /// first block whose hash differs from the prompt's, so a wrong transfer is recomputed, never served.
    /// Returns the tokens whose KV now exist.
    /// </summary>
    private int ImportRemoteKv(SchedulerSequence sequence, KvAllocation allocation)
    {
        var cached = allocation.CachedTokens;
        if (sequence.Request.RemoteKv is not { } remote)
        {
            return cached;
        }

        try
        {
            var blockSize = _kv.BlockSize;
            var first = cached / blockSize;

            // The last prompt token is always computed here: its logits give the first output token.
            var usable = Math.Min(remote.Blocks, (sequence.Prompt.Length - 1) / blockSize);
            var imported = first;
            for (var i = first; i < usable && remote.SequenceHash(i) == _kv.BlockHash(sequence.Id, i); i++)
            {
                if (remote.HasBytes)
                {
                    _kv.ImportBlock(sequence.Id, i, remote.Block(i));
                }

                imported = i + 1;
            }

            if (imported == first)
            {
                return cached;
            }

            var computed = imported * blockSize;
            _kv.MarkComputed(sequence.Id, computed);
            Interlocked.Add(ref _importedPromptTokens, computed - cached);
            return computed;
        }
        finally
        {
            remote.DropBytes();
        }
    }

    /// <summary>After a step: hands the prefill request's newly computed full blocks to its transfer.</summary>
    private void ExportRemoteKv(SchedulerSequence sequence)
    {
        if (sequence.Request.KvExport is not { IsClosed: false } sink)
        {
            return;
        }

        var ready = Math.Min(sequence.Computed / _kv.BlockSize, sink.BlockCount);
        for (var i = sink.Exported; i < ready; i++)
        {
            if (sink.HasBytes)
            {
                _kv.ExportBlock(sequence.Id, i, sink.Slot(i));
            }

            sink.Publish(i);
        }
    }
}
