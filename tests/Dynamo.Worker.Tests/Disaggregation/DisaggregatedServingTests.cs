using System.Net;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Hashing;
using Dynamo.Worker.Disaggregation;
using Microsoft.Extensions.DependencyInjection;
using Dynamo.Worker.Tests.Engine;

namespace Dynamo.Worker.Tests.Disaggregation;

[Collection(EngineCollection.Name)]
public sealed class DisaggregatedServingTests(EngineModelsFixture models)
{
    // 40 tokens in 16-token blocks: blocks 0-1 travel, the partial last block (and the last token) is computed by decode.
    private static readonly int[] Prompt = [.. Enumerable.Range(100, 40)];

    private Dictionary<string, string?> Native(int blockSize = 16) => new()
    {
        ["Worker:ModelPath"] = models.LlamaF32,
        ["Worker:BlockSize"] = blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static object Greedy(int maxTokens, string? transferId = null, int? timeoutMs = null) => transferId is null
        ? new { token_ids = Prompt, max_tokens = maxTokens, sampling = new { temperature = 0 } }
        : new { token_ids = Prompt, max_tokens = maxTokens, sampling = new { temperature = 0 }, kv_transfer = new { transfer_id = transferId, timeout_ms = timeoutMs } };

    private async Task<List<int>> AggregatedAsync(int maxTokens)
    {
        await using var aggregated = await DisaggWorker.StartAsync("Aggregated", Native());
        return await aggregated.GenerateAsync(Greedy(maxTokens));
    }

    [Fact]
    public async Task Decode_ArrivesBeforeThePush_ImportsFullBlocksComputesOnlyTheTailAndMatchesAggregated()
    {
        var expected = await AggregatedAsync(12);
        await using var prefill = await DisaggWorker.StartAsync("Prefill", Native());
        await using var decode = await DisaggWorker.StartAsync("Decode", Native());
        var eventsBefore = decode.Engine.KvBlocks.LastEventId;

        var decoding = decode.GenerateAsync(Greedy(12, "t-decode-first"));
        await DisaggWorker.WaitUntilAsync(() => decode.Transfers.Count == 1);
        var (status, result, text) = await prefill.PrefillAsync(Prompt, "t-decode-first", decode.Address.ToString());
        var tokens = await decoding;

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(expected, tokens);
        Assert.NotNull(result);
        Assert.Equal(2, result.Blocks);
        Assert.Equal(2L * decode.Engine.KvBlocks.BlockBytes, result.Bytes);
        Assert.Equal(32, decode.Engine.Scheduler.ImportedPromptTokens);
        Assert.Equal(8, decode.Engine.Scheduler.ComputedPromptTokens);
        Assert.Equal(0, decode.Decode.Fallbacks);
        var hashes = KvBlockHashing.ComputeBlockHashes(Prompt, 16).SequenceHashes;
        Assert.Subset(decode.Engine.KvBlocks.CachedHashes(KvTier.Device).ToHashSet(), hashes.ToHashSet());
        Assert.True(decode.Engine.KvBlocks.LastEventId >= eventsBefore + 2, text);
        Assert.Equal(0, decode.Transfers.BufferedBytes);
        Assert.Equal(0, prefill.Transfers.BufferedBytes);
    }

    [Fact]
    public async Task Push_ArrivesBeforeTheDecodeRequest_IsBufferedThenImported()
    {
        var expected = await AggregatedAsync(10);
        await using var prefill = await DisaggWorker.StartAsync("Prefill", Native());
        await using var decode = await DisaggWorker.StartAsync("Decode", Native());

        var (status, result, _) = await prefill.PrefillAsync(Prompt, "t-push-first", decode.Address.ToString());
        var buffered = decode.Transfers.BufferedBytes;
        var tokens = await decode.GenerateAsync(Greedy(10, "t-push-first"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(result!.Bytes, buffered);
        Assert.Equal(expected, tokens);
        Assert.Equal(32, decode.Engine.Scheduler.ImportedPromptTokens);
        Assert.Equal(0, decode.Transfers.BufferedBytes);
    }

    [Fact]
    public async Task Decode_PrefillWorkerNeverPushes_RecomputesAfterTheTimeoutAndMatchesAggregated()
    {
        var expected = await AggregatedAsync(10);
        await using var decode = await DisaggWorker.StartAsync("Decode", Native());

        var tokens = await decode.GenerateAsync(Greedy(10, "t-no-prefill", timeoutMs: 300));

        Assert.Equal(expected, tokens);
        Assert.Equal(0, decode.Engine.Scheduler.ImportedPromptTokens);
        Assert.Equal(40, decode.Engine.Scheduler.ComputedPromptTokens);
        Assert.Equal(1, decode.Decode.Fallbacks);
    }

    [Fact]
    public async Task Prefill_DecodeUrlUnreachable_Returns502AndFreesItsBlocks()
    {
        await using var prefill = await DisaggWorker.StartAsync("Prefill", Native());
        var initial = prefill.Engine.KvBlocks.AvailableBlocks;

        var (status, _, text) = await prefill.PrefillAsync(Prompt, "t-bogus", "http://127.0.0.1:1/");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("t-bogus", text, StringComparison.Ordinal);
        await DisaggWorker.WaitUntilAsync(() => prefill.Engine.KvBlocks.AvailableBlocks == initial && prefill.Engine.Scheduler.Running == 0);
        Assert.Equal(0, prefill.Transfers.BufferedBytes);
    }

    [Fact]
    public async Task Push_BlockSizeDiffers_IsRefusedAndDecodeRecomputesAtOnce()
    {
        var expected = await AggregatedAsync(10);
        await using var prefill = await DisaggWorker.StartAsync("Prefill", Native(blockSize: 8));
        await using var decode = await DisaggWorker.StartAsync("Decode", Native());

        // A long timeout: only the refusal (not the timeout) can let the decode request finish in time.
        var decoding = decode.GenerateAsync(Greedy(10, "t-block-size", timeoutMs: 600_000));
        await DisaggWorker.WaitUntilAsync(() => decode.Transfers.Count == 1);
        var (status, _, text) = await prefill.PrefillAsync(Prompt, "t-block-size", decode.Address.ToString());
        var tokens = await decoding.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("block size 8", text, StringComparison.Ordinal);
        Assert.Equal(expected, tokens);
        Assert.Equal(40, decode.Engine.Scheduler.ComputedPromptTokens);
        Assert.Equal(1, decode.Decode.Fallbacks);
    }

    [Fact]
    public async Task Push_CorruptBlock_FailsItsChecksumAndDecodeRecomputes()
    {
        var expected = await AggregatedAsync(10);
        await using var decode = await DisaggWorker.StartAsync("Decode", Native());
        var blockBytes = decode.Engine.KvBlocks.BlockBytes;
        var hashes = KvBlockHashing.ComputeBlockHashes(Prompt, 16).SequenceHashes[..2];
        var layout = decode.Services.GetRequiredService<KvTransferLayoutProvider>().Current;
        var body = new MemoryStream();
        body.Write(KvTransferWire.EncodeHeader(layout.Header("t-corrupt", Prompt.Length, hashes)));
        var frame = new byte[KvTransferWire.FrameHeaderBytes];
        KvTransferWire.WriteFrameHeader(frame, 0, checksum: 12345);
        body.Write(frame);
        body.Write(new byte[blockBytes]);

        using var push = await decode.Client.PostAsync("/v1/internal/kv/transfers/t-corrupt", new ByteArrayContent(body.ToArray()));
        var tokens = await decode.GenerateAsync(Greedy(10, "t-corrupt", timeoutMs: 600_000)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, push.StatusCode);
        Assert.Equal(expected, tokens);
        Assert.Equal(0, decode.Engine.Scheduler.ImportedPromptTokens);
        Assert.Equal(0, decode.Transfers.BufferedBytes);
    }
}
