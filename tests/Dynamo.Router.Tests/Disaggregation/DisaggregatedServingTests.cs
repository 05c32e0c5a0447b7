using Dynamo.Router.Routing;
using Dynamo.Router.Tests.Api;
using Microsoft.Extensions.DependencyInjection;
using static Dynamo.Router.Tests.Disaggregation.Completions;
using static Dynamo.Router.Tests.Disaggregation.DisaggregatedCluster;

namespace Dynamo.Router.Tests.Disaggregation;

/// <summary>
/// Disaggregated serving through the real router: a prefill worker computes the prompt and pushes its KV to the
/// decode worker, which streams; greedy output equals a decode worker that prefilled itself, also when the decode
/// worker dies mid-stream (migration) and when the prefill worker dies mid-request.
/// </summary>
public sealed class DisaggregatedServingTests
{
    private static readonly int[] Prompt = [.. Enumerable.Range(300, 70)];

    [Fact]
    public async Task Complete_PrefillAndDecodePools_PrefillWorkerComputesThePromptAndDecodeOutputMatchesLocalPrefill()
    {
        await using var cluster = await StartAsync(prefill: 1, decode: 2);
        var (local, localAddress) = await cluster.StartRouterAsync(new() { ["Router:Disaggregation:MaxLocalPrefillTokens"] = "1000" });
        using var localHttp = new HttpClient { BaseAddress = localAddress };
        using var http = cluster.CreateClient();
        var prefill = cluster.Prefill[0];
        var (d1, d2) = (cluster.Decode[0], cluster.Decode[1]);
        await Eventually(() => local.Services.GetRequiredService<Workers.WorkerPool>().PrefillWorkers.Count == 1, "the second router sees the prefill worker");
        const string settings = $"\"max_tokens\":24,\"ignore_eos\":true,{Greedy}";

        var (remoteRouting, remoteText) = await CompleteAsync(http, Prompt, settings, $$"""{"backend_instance_id":"{{IdOf(d1)}}"}""");
        var (localRouting, localText) = await CompleteAsync(localHttp, Prompt, settings, $$"""{"backend_instance_id":"{{IdOf(d2)}}"}""");

        Assert.Equal("remote", Field(remoteRouting, "prefill"));
        Assert.Equal(IdOf(prefill), Field(remoteRouting, "prefill_worker"));
        Assert.Equal(IdOf(d1), Field(remoteRouting, "worker"));
        // (70 − 1) / 16 = 4 full blocks travel; the decode worker computes the rest.
        Assert.Equal(64, Engine(d1).Scheduler.ImportedPromptTokens);
        Assert.True(Engine(prefill).Scheduler.ComputedPromptTokens >= 64, $"{Engine(prefill).Scheduler.ComputedPromptTokens} prompt tokens computed on the prefill worker");
        Assert.Equal(0, DecodeSide(d1).Fallbacks);

        Assert.Equal("local", Field(localRouting, "prefill"));
        Assert.Equal("uncached 70 <= 1000 tokens", Field(localRouting, "prefill_reason"));
        Assert.Equal(0, Engine(d2).Scheduler.ImportedPromptTokens);
        Assert.Equal(localText, remoteText);
        Assert.NotEmpty(remoteText);
    }

    [Fact]
    public async Task StreamCompletion_DecodeWorkerKilledMidStream_ContinuesOnTheOtherDecodeWorkerWithTheSameGreedyOutput()
    {
        await using var cluster = await StartAsync(prefill: 1, decode: 2);
        using var http = cluster.CreateClient();
        const string settings = $"\"max_tokens\":400,\"ignore_eos\":true,{Greedy}";
        var (_, uninterrupted) = await CompleteAsync(http, Prompt, settings);

        using var response = await StartStreamAsync(http, Prompt, settings);
        var routing = response.Headers.GetValues(RoutingDecision.HeaderName).Single();
        var killed = cluster.WorkerNamed(Field(routing, "worker"));
        var survivor = cluster.Decode.Single(d => d != killed);
        var stepsBefore = Engine(survivor).Scheduler.Steps;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new System.Text.StringBuilder();
        var events = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (ChunkText(line) is not { } piece)
            {
                continue;
            }

            text.Append(piece);
            if (++events == 3)
            {
                await KillAsync(killed);
            }
        }

        Assert.Equal("remote", Field(routing, "prefill"));
        Assert.Equal(uninterrupted, text.ToString());
        Assert.True(await WorkerFailureTests.MetricAsync(http, "dynamo_frontend_model_migration_total") >= 1);
        // The surviving decode worker served the continuation (its prompt imported from the prefill worker, or found in
        // its own cache when it had served the uninterrupted run: both are the router's correct choice).
        Assert.True(Engine(survivor).Scheduler.Steps > stepsBefore, "the survivor generated the continuation");
    }

    [Fact]
    public async Task Complete_PrefillWorkerResetsTheConnection_DecodeWorkerComputesThePromptAtOnceWithTheSameOutput()
    {
        // Decode would wait ten minutes for a push that never comes, far past the client's two: only the router's
        // abandon (DELETE of the transfer) lets this request finish.
        await using var cluster = await StartAsync(prefill: 0, decode: 1, new() { ["Router:Disaggregation:TransferTimeoutMs"] = "600000" }, LongTransferWait);
        using var http = cluster.CreateClient();
        const string settings = $"\"max_tokens\":24,\"ignore_eos\":true,{Greedy}";
        var (localRouting, uninterrupted) = await CompleteAsync(http, Prompt, settings);
        await using var dying = await FakePrefillWorker.StartAsync(hold: false);
        await cluster.RegisterAsync(dying.Registration("prefill-dying", Model));
        await Eventually(() => cluster.Pool.PrefillWorkers.Count == 1, "the dying prefill worker in the pool");

        var (routing, text) = await CompleteAsync(http, Prompt, settings);

        Assert.Equal("no prefill worker", Field(localRouting, "prefill_reason"));
        Assert.Equal("remote", Field(routing, "prefill"));
        Assert.Equal("prefill-dying", Field(routing, "prefill_worker"));
        Assert.Contains("\"transfer_id\"", await dying.Received, StringComparison.Ordinal);
        Assert.Equal(uninterrupted, text);
        Assert.Equal(1, DecodeSide(cluster.Decode[0]).Fallbacks);
        var tracker = cluster.Router.Services.GetRequiredService<ActiveSequenceTracker>();
        await Eventually(() => tracker.Get("prefill-dying") == WorkerActivity.Idle, "the failed prefill no longer counted");
    }
}
