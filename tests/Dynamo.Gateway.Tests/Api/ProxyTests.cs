using Dynamo.TestSupport;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Dynamo.Gateway.Tests.Infrastructure;

namespace Dynamo.Gateway.Tests.Api;

[Collection(ServersCollection.Name)]
public sealed class ProxyTests(ServersFixture servers)
{
    [Fact]
    public async Task ChatCompletions_KnownModel_ForwardsBodyAndReturnsUpstreamAnswer()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions?x=1", GatewayApp.Chat("m"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Hello", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        var seen = Assert.Single(router.Requests);
        Assert.Equal("/v1/chat/completions?x=1", seen.Path);
        Assert.Contains("\"model\":\"m\"", seen.Body, StringComparison.Ordinal);
        Assert.False(seen.Headers.ContainsKey("Authorization"), "the client's API key must not reach the router");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ChatCompletions_ServerTimingSetting_SplitsTheGatewaysStagesOnlyWhenOn(bool on)
    {
        await using var router = await FakeRouter.StartAsync();
        router.ReleaseStream.SetResult();
        await using var gateway = await GatewayApp.StartAsync(servers, new() { ["Gateway:ServerTiming"] = on ? "true" : "false" });
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m", stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (!on)
        {
            Assert.False(response.Headers.Contains("Server-Timing"));
            return;
        }

        var stages = string.Join(", ", response.Headers.GetValues("Server-Timing")).Split(", ")
            .Select(e => e.Split(";dur=")).ToList();
        Assert.Equal(["gw-key", "gw-limits", "gw-body", "gw-route", "gw-upstream"], stages.Select(s => s[0]));
        Assert.All(stages, s => Assert.True(double.Parse(s[1], System.Globalization.CultureInfo.InvariantCulture) >= 0));
    }

    [Fact]
    public async Task ChatCompletions_UpstreamError_PassesStatusAndBodyUnchanged()
    {
        await using var router = await FakeRouter.StartAsync();
        router.FailWithStatus = 400;
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(FakeRouter.ErrorBody, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChatCompletions_UnknownModel_Returns404ModelNotFound()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("nope"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Empty(router.Requests);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[""")]
    [InlineData("""not json""")]
    [InlineData("""["model","m"]""")]
    [InlineData("""{"messages":[]}""")]
    [InlineData("""{"model":42}""")]
    public async Task ChatCompletions_UnroutableBody_Returns400InvalidRequest(string body)
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Empty(router.Requests);
    }

    [Fact]
    public async Task ChatCompletions_BodyOverLimit_Returns413()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers, new() { ["Gateway:MaxRequestBodyBytes"] = "2048" });
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();
        var big = $$"""{"model":"m","messages":[{"role":"user","content":"{{new string('x', 4096)}}"}]}""";

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Json(big));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(router.Requests);
    }

    [Fact]
    public async Task ChatCompletions_Streaming_FirstEventArrivesBeforeBackendSendsSecond()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = GatewayApp.Chat("m", stream: true) };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().WaitAsync(Eventually.Limit);

        Assert.False(router.ReleaseStream.Task.IsCompleted);
        Assert.Equal("data: " + FakeRouter.FirstEvent, first);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        router.ReleaseStream.SetResult();
        var rest = await reader.ReadToEndAsync();
        Assert.Contains(FakeRouter.SecondEvent, rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletions_ClientDisconnectsMidStream_BackendRequestIsCancelled()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using (var client = gateway.CreateClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = GatewayApp.Chat("m", stream: true) };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await router.StreamStarted.Task.WaitAsync(Eventually.Limit);
        }

        await router.Aborted.Task.WaitAsync(Eventually.Limit);
        Assert.False(router.ReleaseStream.Task.IsCompleted);
    }

    [Fact]
    public async Task ChatCompletions_RequestIdGiven_ReachesBackendAndIsEchoed()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = GatewayApp.Chat("m") };
        request.Headers.Add("X-Request-Id", "req-abc-123");

        using var response = await client.SendAsync(request);

        Assert.Equal("req-abc-123", Assert.Single(response.Headers.GetValues("X-Request-Id")));
        Assert.Equal("req-abc-123", Assert.Single(router.Requests).Headers["X-Request-Id"]);
    }

    [Fact]
    public async Task ChatCompletions_NoRequestId_GeneratedIdReachesBackendAndIsEchoed()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));

        var echoed = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.False(string.IsNullOrWhiteSpace(echoed));
        Assert.Equal(echoed, Assert.Single(router.Requests).Headers["X-Request-Id"]);
    }

    [Fact]
    public async Task ChatCompletions_ClientTraceParent_BackendGetsChildInSameTrace()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var parentSpan = ActivitySpanId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = GatewayApp.Chat("m") };
        request.Headers.Add("traceparent", $"00-{traceId}-{parentSpan}-01");

        using var response = await client.SendAsync(request);

        var forwarded = Assert.Single(router.Requests).Headers["traceparent"].Split('-');
        Assert.Equal(traceId, forwarded[1]);
        Assert.NotEqual(parentSpan, forwarded[2]);
    }

    [Fact]
    public async Task ChatCompletions_TwoRouterReplicas_BothReceiveTraffic()
    {
        await using var first = await FakeRouter.StartAsync();
        await using var second = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", first.Address, second.Address);
        using var client = gateway.CreateClient();

        for (var i = 0; i < 10; i++)
        {
            using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(10, first.Requests.Count + second.Requests.Count);
        Assert.NotEmpty(first.Requests);
        Assert.NotEmpty(second.Requests);
    }

    [Fact]
    public async Task ChatCompletions_OneReplicaDead_EveryRequestServedByTheLiveOne()
    {
        await using var live = await FakeRouter.StartAsync();
        var dead = new Uri($"http://127.0.0.1:{UnusedPort()}/");
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", dead, live.Address);
        using var client = gateway.CreateClient();

        for (var i = 0; i < 6; i++)
        {
            using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(6, live.Requests.Count);
    }

    [Fact]
    public async Task ChatCompletions_EveryReplicaDead_Returns503()
    {
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", new Uri($"http://127.0.0.1:{UnusedPort()}/"));
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream_unavailable", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Models_RegisteredCards_ListedInOpenAiShape()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("beta", router.Address);
        await gateway.RegisterModelAsync("alpha", router.Address);
        using var client = gateway.CreateClient();

        var list = await client.GetFromJsonAsync<JsonElement>("/v1/models");

        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Equal(["alpha", "beta"], list.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray());
        Assert.Equal("model", list.GetProperty("data")[0].GetProperty("object").GetString());
    }

    [Fact]
    public async Task ChatCompletions_NoCardButRouterServiceConfigured_GoesToConfiguredRouter()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers, new() { ["services:router:http:0"] = router.Address.ToString() });
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("anything"));
        var models = await client.GetFromJsonAsync<JsonElement>("/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fallback-model", models.GetProperty("data")[0].GetProperty("id").GetString());
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
