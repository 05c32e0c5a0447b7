using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.Gateway.Limits;
using Dynamo.Gateway.Tests.Infrastructure;
using Dynamo.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Gateway.Tests.Api;

[Collection(ServersCollection.Name)]
public sealed class RateLimitTests(ServersFixture servers)
{
    [Fact]
    public async Task ChatCompletions_OverRequestsPerMinute_Returns429WithRetryAfterUntilWindowEnds()
    {
        var time = new ManualTimeProvider();
        time.Advance(TimeSpan.FromSeconds(15));
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers, time: time);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient(await CreateKeyAsync(gateway, """{"name":"rpm","requests_per_minute":2,"tokens_per_minute":0}"""));

        await AssertStatusAsync(HttpStatusCode.OK, client);
        await AssertStatusAsync(HttpStatusCode.OK, client);

        await AssertRefusedAsync(client, "requests", TimeSpan.FromSeconds(45));
        Assert.Equal(2, router.Requests.Count);

        time.Advance(TimeSpan.FromSeconds(46));
        await AssertStatusAsync(HttpStatusCode.OK, client);
    }

    [Fact]
    public async Task ChatCompletions_TokensOfWindowSpent_Returns429TokensType()
    {
        var time = new ManualTimeProvider();
        await using var router = await FakeRouter.StartAsync();
        router.UsageTokens = 30;
        await using var gateway = await GatewayApp.StartAsync(servers, time: time);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient(await CreateKeyAsync(gateway, """{"name":"tpm","requests_per_minute":0,"tokens_per_minute":50}"""));

        await AssertStatusAsync(HttpStatusCode.OK, client);
        await AssertStatusAsync(HttpStatusCode.OK, client);

        await AssertRefusedAsync(client, "tokens", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task ChatCompletions_StreamedUsageSpendsTokens_NextRequestRefused()
    {
        var time = new ManualTimeProvider();
        await using var router = await FakeRouter.StartAsync();
        router.UsageTokens = 40;
        router.ReleaseStream.SetResult();
        await using var gateway = await GatewayApp.StartAsync(servers, time: time);
        await gateway.RegisterModelAsync("m", router.Address);
        using var client = gateway.CreateClient(await CreateKeyAsync(gateway, """{"name":"tpm-stream","tokens_per_minute":40}"""));

        using (var streamed = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m", stream: true)))
        {
            Assert.Contains("[DONE]", await streamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var refused = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
    }

    [Fact]
    public async Task ChatCompletions_TwoReplicas_CountEachOthersRequestsOnceSynced()
    {
        var time = new ManualTimeProvider();
        time.Advance(TimeSpan.FromSeconds(5));
        await using var router = await FakeRouter.StartAsync();
        await using var a = await GatewayApp.StartAsync(servers, time: time);
        await using var b = await GatewayApp.StartAsync(servers, ns: a.Namespace, time: time);
        await a.RegisterModelAsync("m", router.Address);
        await b.RegisterModelAsync("m", router.Address);
        var key = await CreateKeyAsync(a, """{"name":"rpm-shared","requests_per_minute":3,"tokens_per_minute":0}""");
        using var viaA = a.CreateClient(key);
        using var viaB = b.CreateClient(key);

        await AssertStatusAsync(HttpStatusCode.OK, viaA);
        await AssertStatusAsync(HttpStatusCode.OK, viaA);
        await Limiter(a).SyncAsync(CancellationToken.None);
        await AssertStatusAsync(HttpStatusCode.OK, viaB);
        await AssertStatusAsync(HttpStatusCode.TooManyRequests, viaB);
        await Limiter(b).SyncAsync(CancellationToken.None);
        await Limiter(a).SyncAsync(CancellationToken.None);
        await AssertStatusAsync(HttpStatusCode.TooManyRequests, viaA);

        Assert.Equal(3, router.Requests.Count);
    }

    private static KeyRateLimiter Limiter(GatewayApp gateway) => gateway.Services.GetRequiredService<KeyRateLimiter>();

    private static async Task AssertStatusAsync(HttpStatusCode expected, HttpClient client)
    {
        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));
        Assert.Equal(expected, response.StatusCode);
    }

    /// <summary>The next request is refused with 429, the OpenAI rate-limit error of that type and its Retry-After.</summary>
    private static async Task AssertRefusedAsync(HttpClient client, string type, TimeSpan retryAfter)
    {
        using var refused = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(retryAfter, refused.Headers.RetryAfter?.Delta);
        var error = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
    }

    private static async Task<string> CreateKeyAsync(GatewayApp gateway, string request)
    {
        using var admin = gateway.CreateClient(GatewayApp.AdminKey);
        using var created = await admin.PostAsync("/admin/keys", GatewayApp.Json(request));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }
}
