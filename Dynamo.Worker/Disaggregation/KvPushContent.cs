using System.Net;
using Dynamo.Runtime.Hashing;

namespace Dynamo.Worker.Disaggregation;

/// <summary>
/// The push body (<see cref="KvTransferWire"/>): the header first, so the decode worker can refuse a mismatch before
/// any bytes move, then each block as the scheduler publishes it. Ending before the last block (the prefill was
/// cancelled or failed) throws, which resets the stream, so the receiver never mistakes a cut body for a whole one.
/// </summary>
internal sealed class KvPushContent(KvTransferHeader header, KvExportSink sink) : HttpContent
{
    /// <summary>When the body wrote its first block (the transfer's start as the prefill side sees it).</summary>
    public long FirstBlockTimestamp { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(KvTransferWire.EncodeHeader(header), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        var frame = new byte[KvTransferWire.FrameHeaderBytes];
        var sent = 0;
        await foreach (var index in sink.Ready.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (sent == 0)
            {
                FirstBlockTimestamp = TimeProvider.System.GetTimestamp();
            }

            var block = sink.Block(index);
            KvTransferWire.WriteFrameHeader(frame, index, sink.HasBytes ? Xxh3.Hash64(block.Span) : 0);
            await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            if (sink.HasBytes)
            {
                await stream.WriteAsync(block, cancellationToken).ConfigureAwait(false);
            }

            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            sent++;
        }

        if (sent != sink.BlockCount)
        {
            throw new IOException($"The prefill stopped after {sent} of {sink.BlockCount} KV blocks.");
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
