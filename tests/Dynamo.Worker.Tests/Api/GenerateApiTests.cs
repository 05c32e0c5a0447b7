using System.Net;
using System.Text.Json;
using Dynamo.Worker.Tests.Engine;

namespace Dynamo.Worker.Tests.Api;

[Collection(EngineCollection.Name)]
public sealed class GenerateApiTests(EngineModelsFixture models)
{
    private static readonly int[] Prompt = [.. Enumerable.Range(100, 40)];

    [Fact]
    public async Task Generate_GreedyTwiceOverHttp2_MatchesDirectDecodingWithLengthFinishUsageAndCachedPrefix()
    {
        int[] expected;
        using (var reference = new EngineSession(models.LlamaF32))
        {
            expected = reference.Greedy(Prompt, 8, EngineSession.Identity(3));
        }

        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32, ["Worker:HttpProtocols"] = "Http2" });
        using var client = app.CreateClient();
        var body = new { token_ids = Prompt, max_tokens = 8, sampling = new { temperature = 0 } };

        using var first = await client.SendAsync(WorkerApp.Generate(body, HttpVersion.Version20), HttpCompletionOption.ResponseHeadersRead);
        var firstEvents = await WorkerApp.ReadEventsAsync(first);
        using var second = await client.SendAsync(WorkerApp.Generate(body, HttpVersion.Version20), HttpCompletionOption.ResponseHeadersRead);
        var secondEvents = await WorkerApp.ReadEventsAsync(second);

        Assert.Equal(HttpVersion.Version20, first.Version);
        Assert.Equal(8, firstEvents.Count);
        Assert.Equal(Enumerable.Range(0, 8), firstEvents.Select(e => e.GetProperty("index").GetInt32()));
        Assert.Equal(expected, Tokens(firstEvents));
        Assert.Equal(expected, Tokens(secondEvents));
        var last = firstEvents[^1];
        Assert.Equal("length", last.GetProperty("finish_reason").GetString());
        Assert.Equal(40, last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(8, last.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.All(firstEvents.SkipLast(1), e => Assert.False(e.TryGetProperty("finish_reason", out _)));
        Assert.True(secondEvents[0].GetProperty("cached_tokens").GetInt32() > 0);
        Assert.True(secondEvents[^1].GetProperty("usage").GetProperty("cached_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Generate_DefaultEndpointOverHttp11_StreamsEachTokenAsAnEvent()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaQ8 });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 4, sampling = new { temperature = 0.8, seed = 3, top_k = 50 } }),
            HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal(4, events.Count);
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData("""{"token_ids":[],"max_tokens":4}""", "token_ids")]
    [InlineData("""{"token_ids":[1,2,999999],"max_tokens":4}""", "token_ids")]
    [InlineData("""{"token_ids":[1,2,3],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"token_ids":[1,2,3],"max_tokens":1000000}""", "max_tokens")]
    [InlineData("""{"token_ids":[1,2,3],"max_tokens":4,"sampling":{"top_p":1.5}}""", "top_p")]
    [InlineData("""{"token_ids":[1,2,3],"max_tokens":4,"sampling":{"logit_bias":{"abc":1}}}""", "logit_bias")]
    public async Task Generate_InvalidBody_Returns400NamingTheParameter(string json, string param)
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaQ8 });
        using var client = app.CreateClient();

        using var response = await client.PostAsync(Dynamo.Worker.Api.GenerateApi.Path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Generate_MockerEngine_StreamsMaxTokens()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:Engine"] = "mocker", ["Worker:Mocker:SpeedUp"] = "100" });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 5, sampling = new { seed = 7 } }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(5, events.Count);
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Generate_ClientDisconnectsMidStream_BlocksReturnToThePool()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:Engine"] = "mocker" });
        var initial = app.Engine.KvBlocks.AvailableBlocks;
        using var client = app.CreateClient();

        using (var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 3000 }), HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var seen = 0;
            while (seen < 3 && await reader.ReadLineAsync() is { } line)
            {
                seen += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }

            Assert.Equal(3, seen);
            Assert.True(app.Engine.KvBlocks.AvailableBlocks < initial);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (app.Engine.KvBlocks.AvailableBlocks != initial || app.Engine.Scheduler.Running != 0)
        {
            await Task.Delay(50, timeout.Token);
        }

        Assert.Equal(initial, app.Engine.KvBlocks.AvailableBlocks);
    }

    [Fact]
    public async Task Generate_WaitingQueueFull_Returns503WithRetryAfter()
    {
        await using var app = await WorkerApp.StartAsync(new()
        {
            ["Worker:Engine"] = "mocker",
            ["Worker:Scheduler:MaxNumSeqs"] = "1",
            ["Worker:Scheduler:WaitingCapacity"] = "1",
        });
        using var client = app.CreateClient();
        var body = new { token_ids = Prompt, max_tokens = 3000 };

        using var running = await client.SendAsync(WorkerApp.Generate(body), HttpCompletionOption.ResponseHeadersRead);
        using var runningReader = new StreamReader(await running.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await runningReader.ReadLineAsync(), StringComparison.Ordinal);
        var waiting = client.SendAsync(WorkerApp.Generate(body), HttpCompletionOption.ResponseHeadersRead);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (app.Engine.Scheduler.Waiting != 1)
        {
            await Task.Delay(20, timeout.Token);
        }

        using var rejected = await client.SendAsync(WorkerApp.Generate(body), HttpCompletionOption.ResponseHeadersRead);
        using var error = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());

        using var waitingResponse = await waiting;
        Assert.Equal(HttpStatusCode.OK, waitingResponse.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), rejected.Headers.RetryAfter?.Delta);
        Assert.Equal("service_unavailable", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    private static List<int> Tokens(List<JsonElement> events) => [.. events.Select(e => e.GetProperty("token_id").GetInt32())];
}
