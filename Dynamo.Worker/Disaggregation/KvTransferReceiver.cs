using Dynamo.Runtime.Generation;
using Dynamo.Runtime.Hashing;
using Dynamo.Worker.Engines.Mocker;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Disaggregation;

/// <summary>
/// Decode side of <c>POST /v1/internal/kv/transfers/{id}</c>: checks the pushed header against this worker's layout
/// and the decode request's prompt, then reads block frames straight into the transfer's buffer, verifying each
/// block's checksum. Any problem fails the transfer at once, so a waiting decode request recomputes without
/// waiting for its timeout.
/// </summary>
public sealed partial class KvTransferReceiver(
    KvTransferRegistry registry,
    KvTransferLayoutProvider layout,
    IOptions<DisaggregationOptions> options,
    IOptions<MockerOptions> mocker,
    TimeProvider time,
    ILogger<KvTransferReceiver> logger)
{
    /// <summary>Pushes accepted and read to the end with every block intact.</summary>
    public long CompletedTransfers => Interlocked.Read(ref _completed);

    private long _completed;

    internal async Task<IResult> ReceiveAsync(HttpContext context, string id)
    {
        var aborted = context.RequestAborted;

        // A push spans the whole prefill: no size cap, and no minimum rate while the prompt is still computing.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        KvTransferHeader header;
        try
        {
            header = await KvTransferWire.ReadHeaderAsync(context.Request.Body, aborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException or System.Text.Json.JsonException)
        {
            return Refuse(id, StatusCodes.Status400BadRequest, $"bad transfer header: {ex.Message}");
        }

        if (header.TransferId != id)
        {
            return Refuse(id, StatusCodes.Status400BadRequest, $"the header names transfer '{header.TransferId}', the path '{id}'");
        }

        if (layout.Current.Mismatch(header) is { } mismatch)
        {
            return Refuse(id, StatusCodes.Status409Conflict, mismatch);
        }

        if (registry.BeginPush(id, header, out var entry) is { } refused)
        {
            LogRefused(id, refused);
            return Error(StatusCodes.Status409Conflict, refused);
        }

        // Held here: a decode request that stops waiting takes the entry's buffer (and stops our commits), but the
        // block being read still needs somewhere to land.
        var buffer = entry.Buffer;
        try
        {
            var frame = new byte[KvTransferWire.FrameHeaderBytes];
            var blocks = header.SequenceHashes.Length;
            for (var i = 0; i < blocks; i++)
            {
                await context.Request.Body.ReadExactlyAsync(frame, aborted);
                var (index, checksum) = KvTransferWire.ReadFrameHeader(frame);
                if (index != i)
                {
                    return Fail(entry, StatusCodes.Status400BadRequest, $"block {index} arrived where block {i} was due");
                }

                if (header.BlockBytes > 0)
                {
                    var slot = buffer.AsMemory(i * header.BlockBytes, header.BlockBytes);
                    await context.Request.Body.ReadExactlyAsync(slot, aborted);
                    if (Xxh3.Hash64(slot.Span) != checksum)
                    {
                        return Fail(entry, StatusCodes.Status422UnprocessableEntity, $"block {i} failed its checksum");
                    }

                    if (!registry.CommitBlock(entry, i))
                    {
                        return Gone(entry);
                    }
                }
            }

            if (header.BlockBytes == 0)
            {
                // Hashes only (mocker): the bytes' travel time is simulated, then the blocks count as delivered.
                await Task.Delay(SimulatedTransfer(blocks * header.BlockSize), time, aborted);
                for (var i = 0; i < blocks; i++)
                {
                    if (!registry.CommitBlock(entry, i))
                    {
                        return Gone(entry);
                    }
                }
            }

            registry.Complete(entry);
            Interlocked.Increment(ref _completed);
            LogReceived(id, blocks, (long)blocks * header.BlockBytes);
            return TypedResults.Json(new KvTransferAck(id, blocks), KvTransferJsonContext.Default.KvTransferAck);
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or OperationCanceledException or BadHttpRequestException)
        {
            return Fail(entry, StatusCodes.Status400BadRequest, $"the push broke off: {ex.Message}");
        }
    }

    /// <summary>DESIGN.md §6: <c>kv_transfer_ms = ISL · bytes_per_token / bandwidth</c>, divided by the mocker's speed-up.</summary>
    internal TimeSpan SimulatedTransfer(int tokens)
    {
        var o = options.Value;
        var ms = tokens * (double)o.MockerKvBytesPerToken / (o.MockerTransferGBps * 1e9) * 1000.0 / mocker.Value.SpeedUp;
        return TimeSpan.FromTicks((long)(ms * TimeSpan.TicksPerMillisecond));
    }

    private IResult Refuse(string id, int status, string reason)
    {
        registry.Fail(id, reason);
        LogRefused(id, reason);
        return Error(status, reason);
    }

    private IResult Fail(KvTransferEntry entry, int status, string reason)
    {
        registry.Fail(entry, reason);
        LogRefused(entry.Id, reason);
        return Error(status, reason);
    }

    private IResult Gone(KvTransferEntry entry)
    {
        LogRefused(entry.Id, "the decode request no longer waits for it");
        return Error(StatusCodes.Status410Gone, "The decode request no longer waits for this transfer.");
    }

    internal static IResult Error(int status, string message) =>
        TypedResults.Json(new ApiErrorResponse(new ApiError(message, "kv_transfer_error", null, null)), GenerateJsonContext.Default.ApiErrorResponse, statusCode: status);

    [LoggerMessage(Level = LogLevel.Information, Message = "KV transfer {TransferId} refused or failed: {Reason}")]
    private partial void LogRefused(string transferId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "KV transfer {TransferId} received: {Blocks} blocks, {Bytes} bytes")]
    private partial void LogReceived(string transferId, int blocks, long bytes);
}

/// <summary>The decode worker's answer to a complete push.</summary>
public sealed record KvTransferAck(string TransferId, int Blocks);
