using System.Net;
using System.Net.Http.Json;
using Dynamo.Worker.Api;
using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.Tests.Engine;

namespace Dynamo.Worker.Tests.Disaggregation;

[Collection(EngineCollection.Name)]
public sealed class DisaggregationCancellationTests(EngineModelsFixture models)
{
    private static readonly int[] Prompt = [.. Enumerable.Range(100, 40)];

    private static readonly int[] LongPrompt = [.. Enumerable.Range(100, 2000)];

    private Dictionary<string, string?> Native() => new() { ["Worker:ModelPath"] = models.LlamaF32 };

    private static Dictionary<string, string?> Mocker(string speedUp) => new()
    {
        ["Worker:Engine"] = "mocker",
        ["Worker:Mocker:SpeedUp"] = speedUp,
    };

    [Fact]
    public async Task Decode_ClientLeavesWhileWaiting_AbandonsTheTransferSoThePushIsRefused()
    {
        await using var prefill = await DisaggWorker.StartAsync("Prefill", Native());
        await using var decode = await DisaggWorker.StartAsync("Decode", Native());
        var prefillInitial = prefill.Engine.KvBlocks.AvailableBlocks;
        var decodeInitial = decode.Engine.KvBlocks.AvailableBlocks;
        using var leave = new CancellationTokenSource();

        var decoding = decode.GenerateAsync(
            new { token_ids = Prompt, max_tokens = 8, kv_transfer = new { transfer_id = "t-leave", timeout_ms = 600_000 } }, leave.Token);
        await DisaggWorker.WaitUntilAsync(() => decode.Transfers.Count == 1);
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => decoding);
        await DisaggWorker.WaitUntilAsync(() => decode.Decode.Abandoned == 1);
        var (status, _, text) = await prefill.PrefillAsync(Prompt, "t-leave", decode.Address.ToString());

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("detached", text, StringComparison.Ordinal);
        await DisaggWorker.WaitUntilAsync(() => prefill.Engine.KvBlocks.AvailableBlocks == prefillInitial);
        Assert.Equal(decodeInitial, decode.Engine.KvBlocks.AvailableBlocks);
        Assert.Equal(0, decode.Transfers.BufferedBytes);
        Assert.Equal(0, prefill.Transfers.BufferedBytes);
    }

    [Fact]
    public async Task Decode_ClientLeavesMidStream_FreesItsBlocksImportedOnesIncluded()
    {
        // The mocker at real speed (about 6 ms a decode step, 1900 steps) keeps the request running long after
        // the client leaves; the tiny native model finishes 1900 tokens before a slow client reads its third.
        await using var prefill = await DisaggWorker.StartAsync("Prefill", Mocker("1"));
        await using var decode = await DisaggWorker.StartAsync("Decode", Mocker("1"));
        var initial = decode.Engine.KvBlocks.AvailableBlocks;

        var pushed = prefill.PrefillAsync(Prompt, "t-mid", decode.Address.ToString());
        using (var request = new HttpRequestMessage(HttpMethod.Post, GenerateApi.Path)
        {
            Content = JsonContent.Create(new { token_ids = Prompt, max_tokens = 1900, kv_transfer = new { transfer_id = "t-mid" } }),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        })
        using (var response = await decode.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var seen = 0;
            while (seen < 3 && await reader.ReadLineAsync() is { } line)
            {
                seen += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }

            Assert.Equal(3, seen);
            Assert.True(decode.Engine.KvBlocks.AvailableBlocks < initial);
        }

        Assert.Equal(HttpStatusCode.OK, (await pushed).Status);
        await DisaggWorker.WaitUntilAsync(() => decode.Engine.KvBlocks.AvailableBlocks == initial && decode.Engine.Scheduler.Running == 0);
        Assert.Equal(32, decode.Engine.Scheduler.ImportedPromptTokens);
    }

    [Fact]
    public async Task Prefill_ClientLeavesMidPrefill_StopsThePushFreesItsBlocksAndDecodeRecomputes()
    {
        // SpeedUp 0.02: the 2000-token mocker prefill takes about 2.4 s, long enough to leave in the middle.
        await using var prefill = await DisaggWorker.StartAsync("Prefill", Mocker("0.02"));
        await using var decode = await DisaggWorker.StartAsync("Decode", Mocker("100"));
        var prefillInitial = prefill.Engine.KvBlocks.AvailableBlocks;
        var decodeInitial = decode.Engine.KvBlocks.AvailableBlocks;
        using var leave = new CancellationTokenSource();

        var decoding = decode.GenerateAsync(
            new { token_ids = LongPrompt, max_tokens = 4, kv_transfer = new { transfer_id = "t-prefill-leaves", timeout_ms = 600_000 } });
        await DisaggWorker.WaitUntilAsync(() => decode.Transfers.Count == 1);
        var pushing = prefill.PrefillAsync(LongPrompt, "t-prefill-leaves", decode.Address.ToString(), leave.Token);
        // Blocks are taken at admission, before the (slow) prefill step: the request is now mid-prefill.
        await DisaggWorker.WaitUntilAsync(() => prefill.Engine.KvBlocks.AvailableBlocks < prefillInitial);
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pushing);
        var tokens = await decoding.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(4, tokens.Count);
        Assert.Equal(1, decode.Decode.Fallbacks);
        Assert.Equal(0, decode.Engine.Scheduler.ImportedPromptTokens);
        await DisaggWorker.WaitUntilAsync(() => prefill.Engine.KvBlocks.AvailableBlocks == prefillInitial && prefill.Engine.Scheduler.Running == 0);
        await DisaggWorker.WaitUntilAsync(() => decode.Engine.KvBlocks.AvailableBlocks == decodeInitial);
        Assert.Equal(0, prefill.Transfers.BufferedBytes);
    }

    [Fact]
    public async Task Decode_PrefillWorkerAbandonsTheTransfer_RecomputesWithoutWaitingForTheTimeout()
    {
        await using var decode = await DisaggWorker.StartAsync("Decode", Mocker("100"));

        var decoding = decode.GenerateAsync(
            new { token_ids = LongPrompt, max_tokens = 4, kv_transfer = new { transfer_id = "t-abandoned", timeout_ms = 600_000 } });
        await DisaggWorker.WaitUntilAsync(() => decode.Transfers.Count == 1);
        using var abandon = await decode.Client.DeleteAsync(DisaggregationApi.TransferPath.Replace("{id}", "t-abandoned", StringComparison.Ordinal));
        var tokens = await decoding.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.NoContent, abandon.StatusCode);
        Assert.Equal(4, tokens.Count);
        Assert.Equal(1, decode.Decode.Fallbacks);
        Assert.Equal(0, decode.Engine.Scheduler.ImportedPromptTokens);
    }

    [Fact]
    public async Task Mocker_TransferOfHashesOnly_DecodeImportsThePromptAndComputesTheTail()
    {
        await using var prefill = await DisaggWorker.StartAsync("Prefill", Mocker("1000"));
        await using var decode = await DisaggWorker.StartAsync("Decode", Mocker("1000"));

        var decoding = decode.GenerateAsync(new { token_ids = LongPrompt, max_tokens = 5, kv_transfer = new { transfer_id = "t-mocker" } });
        var (status, result, _) = await prefill.PrefillAsync(LongPrompt, "t-mocker", decode.Address.ToString());
        var tokens = await decoding;

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(124, result!.Blocks);
        Assert.Equal(0, result.Bytes);
        Assert.Equal(5, tokens.Count);
        Assert.Equal(124 * 16, decode.Engine.Scheduler.ImportedPromptTokens);
        Assert.Equal(2000 - (124 * 16), decode.Engine.Scheduler.ComputedPromptTokens);
    }
}
