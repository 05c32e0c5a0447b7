using Dynamo.Router.Routing;
using Microsoft.Extensions.DependencyInjection;
using static Dynamo.Router.Tests.Disaggregation.Completions;
using static Dynamo.Router.Tests.Disaggregation.DisaggregatedCluster;

namespace Dynamo.Router.Tests.Disaggregation;

/// <summary>
/// A client that leaves a disaggregated request cancels everything it started: the decode worker's request, the
/// remote prefill request, and with them the KV blocks both workers held; the router stops counting either's load.
/// </summary>
public sealed class DisaggregatedCancellationTests
{
    private static readonly int[] Prompt = [.. Enumerable.Range(500, 90)];

    [Fact]
    public async Task StreamCompletion_ClientDisconnectsMidStream_FreesTheDecodeAndPrefillWorkersBlocks()
    {
        await using var cluster = await StartAsync(prefill: 1, decode: 1);
        using var http = cluster.CreateClient();
        var (prefill, decode) = (cluster.Prefill[0], cluster.Decode[0]);
        var stepsBefore = Engine(decode).Scheduler.Steps;

        var response = await StartStreamAsync(http, Prompt, $"\"max_tokens\":3000,\"ignore_eos\":true,{Greedy}");
        var routing = response.Headers.GetValues(RoutingDecision.HeaderName).Single();
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var chunks = 0;
        while (chunks < 3 && await reader.ReadLineAsync() is { } line)
        {
            chunks += ChunkText(line) is null ? 0 : 1;
        }

        Assert.Equal(1, Engine(decode).Scheduler.Running);
        Assert.True(Engine(decode).KvBlocks.Snapshot().ActiveBlocks > 0);
        reader.Dispose();
        response.Dispose();

        await Eventually(() => Engine(decode).Scheduler.Running == 0, "the decode request stopped");
        await Eventually(() => Engine(decode).KvBlocks.Snapshot().ActiveBlocks == 0, "the decode worker's blocks freed");
        await Eventually(() => Engine(prefill).KvBlocks.Snapshot().ActiveBlocks == 0, "the prefill worker's blocks freed");
        var tracker = cluster.Router.Services.GetRequiredService<ActiveSequenceTracker>();
        await Eventually(() => tracker.Get(IdOf(decode)) == WorkerActivity.Idle && tracker.Get(IdOf(prefill)) == WorkerActivity.Idle, "the router counts no load");
        Assert.Equal("remote", Field(routing, "prefill"));
        Assert.True(Engine(decode).Scheduler.Steps - stepsBefore < 1500, $"{Engine(decode).Scheduler.Steps - stepsBefore} steps ran");
    }

    [Fact]
    public async Task Complete_ClientLeavesDuringRemotePrefill_AbortsThePrefillRequestAndTheDecodeWait()
    {
        await using var cluster = await StartAsync(prefill: 0, decode: 1, new() { ["Router:Disaggregation:TransferTimeoutMs"] = "600000" }, LongTransferWait);
        await using var slow = await FakePrefillWorker.StartAsync(hold: true);
        await cluster.RegisterAsync(slow.Registration("prefill-slow", Model));
        await Eventually(() => cluster.Pool.PrefillWorkers.Count == 1, "the slow prefill worker in the pool");
        var decode = cluster.Decode[0];
        using var http = cluster.CreateClient();
        using var leave = new CancellationTokenSource();

        var request = CompleteAsync(http, Prompt, $"\"max_tokens\":24,{Greedy}", cancellationToken: leave.Token);
        await slow.Received.WaitAsync(TimeSpan.FromSeconds(60));
        var transfers = decode.Services.GetRequiredService<Dynamo.Worker.Disaggregation.KvTransferRegistry>();
        await Eventually(() => transfers.Count == 1, "the decode request waiting for its transfer");
        await leave.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await slow.Aborted.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually(() => DecodeSide(decode).Abandoned == 1, "the decode worker abandoned its transfer wait");
        Assert.Equal(0, Engine(decode).KvBlocks.Snapshot().ActiveBlocks);
        Assert.Equal(0, Engine(decode).Scheduler.Running);
        var tracker = cluster.Router.Services.GetRequiredService<ActiveSequenceTracker>();
        await Eventually(() => tracker.Get("prefill-slow") == WorkerActivity.Idle && tracker.Get(IdOf(decode)) == WorkerActivity.Idle, "the router counts no load");
    }
}
