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

    /// <summary>
    /// Workers on the mocker engine at real speed (DESIGN.md §6: a decode step takes ≥ 5.7 ms), so 3,000 tokens take
    /// at least 17 s: the test reads its first tokens and leaves long before the stream could end on its own, on an
    /// idle machine as on a busy one, and it counts the decode worker's steps rather than time.
    /// </summary>
    private static Dictionary<string, string?> RealSpeedMocker => new() { ["Worker:Engine"] = "mocker", ["Worker:Mocker:SpeedUp"] = "1" };

    [Fact]
    public async Task StreamCompletion_ClientDisconnectsMidStream_FreesTheDecodeAndPrefillWorkersBlocks()
    {
        await using var cluster = await StartAsync(prefill: 1, decode: 1, worker: RealSpeedMocker);
        using var http = LeavingClient(cluster);
        var (prefill, decode) = (cluster.Prefill[0], cluster.Decode[0]);

        var response = await StartStreamAsync(http, Prompt, $"\"max_tokens\":3000,\"ignore_eos\":true,{Greedy}");
        var routing = response.Headers.GetValues(RoutingDecision.HeaderName).Single();
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await ReadChunksAsync(reader, 3);

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
    }

    /// <summary>
    /// Cancellation latency in engine steps: client leaves → router's request aborted → worker stream disposed (the
    /// router's load release marks that moment; the h2c stream is reset) → the worker's request aborted → the
    /// scheduler drops the sequence. Both hops must take a few decode steps, not the rest of the 3,000.
    /// </summary>
    [Fact]
    public async Task StreamCompletion_ClientLeaves_DecodeWorkerStopsWithinAFewStepsOfTheRouterCancel()
    {
        await using var cluster = await StartAsync(prefill: 1, decode: 1, worker: RealSpeedMocker);
        using var http = LeavingClient(cluster);
        var decode = cluster.Decode[0];
        var scheduler = Engine(decode).Scheduler;
        var tracker = cluster.Router.Services.GetRequiredService<ActiveSequenceTracker>();
        var decodeId = IdOf(decode);
        long stepsAtRouterCancel = -1;
        tracker.LoadReleased += () =>
        {
            if (tracker.Get(decodeId).Sequences == 0)
            {
                Interlocked.CompareExchange(ref stepsAtRouterCancel, scheduler.Steps, -1);
            }
        };

        var response = await StartStreamAsync(http, Prompt, $"\"max_tokens\":3000,\"ignore_eos\":true,{Greedy}");
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await ReadChunksAsync(reader, 3);
        Assert.Equal(-1, Interlocked.Read(ref stepsAtRouterCancel));
        var stepsAtClientLeave = scheduler.Steps;
        reader.Dispose();
        response.Dispose();

        await Eventually(() => scheduler.Running == 0, "the decode request stopped");
        var stepsAtWorkerStop = scheduler.Steps;
        var routerCancel = Interlocked.Read(ref stepsAtRouterCancel);

        Assert.True(routerCancel >= 0, "the router never released the decode worker's sequence");
        Assert.True(routerCancel - stepsAtClientLeave <= MaxStepsPerHop,
            $"the router cancelled {routerCancel - stepsAtClientLeave} decode steps after the client left");
        Assert.True(stepsAtWorkerStop - routerCancel <= MaxStepsPerHop,
            $"the decode worker ran {stepsAtWorkerStop - routerCancel} steps after the router cancelled");
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

    /// <summary>
    /// Slack per hop for a shared, loaded machine; a real-speed mocker step is ≥ 5.7 ms, so 25 steps is still well
    /// under a second, where a router or worker that keeps generating for the departed client runs hundreds.
    /// </summary>
    private const int MaxStepsPerHop = 25;

    /// <summary>
    /// A client that really leaves when it disposes a response: by default SocketsHttpHandler drains an unfinished
    /// HTTP/1.1 body (up to 1 MiB or 2 s) to reuse the connection, and while it drains the router rightly keeps
    /// streaming, so a fast worker ran all 3,000 steps "after" the client left.
    /// </summary>
    private static HttpClient LeavingClient(DisaggregatedCluster cluster) =>
        new(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = cluster.RouterAddress, Timeout = TimeSpan.FromSeconds(120) };

    private static async Task ReadChunksAsync(StreamReader reader, int count)
    {
        var chunks = 0;
        while (chunks < count && await reader.ReadLineAsync() is { } line)
        {
            chunks += ChunkText(line) is null ? 0 : 1;
        }

        Assert.Equal(count, chunks);
    }
}
