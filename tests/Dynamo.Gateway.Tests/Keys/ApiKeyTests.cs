using Dynamo.TestSupport;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Builder;
using Dynamo.Gateway.Hosting;

namespace Dynamo.Gateway.Tests.Keys;

[Collection(ServersCollection.Name)]
public sealed class ApiKeyTests(ServersFixture servers)
{
    [Fact]
    public async Task ChatCompletions_NoAuthorizationHeader_Returns401InvalidApiKey()
    {
        await using var gateway = await GatewayApp.StartAsync(servers);
        using var client = gateway.CreateClient(apiKey: null);

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));

        await AssertInvalidApiKeyAsync(response);
    }

    [Fact]
    public async Task ChatCompletions_UnknownKey_Returns401InvalidApiKey()
    {
        await using var gateway = await GatewayApp.StartAsync(servers);
        using var client = gateway.CreateClient("dyn-not-a-key");

        using var response = await client.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));

        await AssertInvalidApiKeyAsync(response);
    }

    [Fact]
    public async Task AdminKeys_WrongAdminKey_Returns401()
    {
        await using var gateway = await GatewayApp.StartAsync(servers);
        using var client = gateway.CreateClient(GatewayApp.DevelopmentKey);

        using var response = await client.PostAsync("/admin/keys", GatewayApp.Json("{}"));

        await AssertInvalidApiKeyAsync(response);
    }

    [Fact]
    public async Task AdminKeys_CreateUseRevoke_KeyWorksThenReturns401()
    {
        await using var router = await FakeRouter.StartAsync();
        await using var gateway = await GatewayApp.StartAsync(servers);
        await gateway.RegisterModelAsync("m", router.Address);
        using var admin = gateway.CreateClient(GatewayApp.AdminKey);

        using var created = await admin.PostAsync("/admin/keys", GatewayApp.Json("""{"name":"ci","requests_per_minute":100}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var createdJson = await created.Content.ReadFromJsonAsync<JsonElement>();
        var secret = createdJson.GetProperty("key").GetString()!;
        var id = createdJson.GetProperty("info").GetProperty("id").GetString()!;
        Assert.StartsWith("dyn-", secret, StringComparison.Ordinal);

        using var user = gateway.CreateClient(secret);
        using (var ok = await user.PostAsync("/v1/chat/completions", GatewayApp.Chat("m")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var listed = await admin.GetStringAsync("/admin/keys");
        Assert.Contains(id, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(Dynamo.Gateway.Keys.ApiKeySecrets.Hash(secret), listed, StringComparison.Ordinal);

        using (var revoked = await admin.DeleteAsync($"/admin/keys/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        using var refused = await user.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));
        await AssertInvalidApiKeyAsync(refused);
    }

    [Fact]
    public async Task RevokeKey_OnOneReplica_OtherReplicaRefusesItDespiteLongCache()
    {
        var settings = new Dictionary<string, string?> { ["Gateway:KeyCacheDuration"] = "00:10:00" };
        await using var router = await FakeRouter.StartAsync();
        await using var first = await GatewayApp.StartAsync(servers, settings);
        await using var second = await GatewayApp.StartAsync(servers, settings, first.Namespace);
        await first.RegisterModelAsync("m", router.Address);
        await second.RegisterModelAsync("m", router.Address);
        using var admin = first.CreateClient(GatewayApp.AdminKey);
        using var created = await admin.PostAsync("/admin/keys", GatewayApp.Json("""{"name":"shared"}"""));
        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        var secret = json.GetProperty("key").GetString()!;
        using var onSecond = second.CreateClient(secret);
        using (var warm = await onSecond.PostAsync("/v1/chat/completions", GatewayApp.Chat("m")))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        using (await admin.DeleteAsync($"/admin/keys/{json.GetProperty("info").GetProperty("id").GetString()}"))
        {
        }

        await Eventually.TrueAsync(async () =>
        {
            using var response = await onSecond.PostAsync("/v1/chat/completions", GatewayApp.Chat("m"));
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, "the second replica refuses the revoked key");
    }

    [Fact]
    public async Task AddGatewayServices_NoAdminKeyInProduction_FailsNamingTheOption()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = servers.Redis.ConnectionString,
            ["ConnectionStrings:nats"] = servers.Nats.Url,
            ["urls"] = "http://127.0.0.1:0",
        });
        builder.AddServiceDefaults();
        builder.AddGatewayServices();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        Assert.Contains("Gateway:AdminKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_AfterRefusedKey_ExposesRequestAndRejectionCounters()
    {
        await using var gateway = await GatewayApp.StartAsync(servers);
        using var anonymous = gateway.CreateClient(apiKey: null);
        using (await anonymous.PostAsync("/v1/chat/completions", GatewayApp.Chat("m")))
        {
        }

        await Eventually.TrueAsync(async () =>
        {
            var metrics = await anonymous.GetStringAsync("/metrics");
            return metrics.Contains("dynamo_gateway_rejections_total{reason=\"unauthorized\"}", StringComparison.Ordinal) &&
                metrics.Contains("dynamo_gateway_requests_total{status=\"401\"}", StringComparison.Ordinal);
        }, "/metrics shows the 401 and its rejection reason");
    }

    private static async Task AssertInvalidApiKeyAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
    }
}
