using System.Net.Http.Headers;
using System.Text;
using Dynamo.Gateway.Hosting;
using Dynamo.Gateway.Routing;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Dynamo.TestSupport.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Gateway.Tests.Infrastructure;

/// <summary>The real gateway (as Program.cs composes it) on 127.0.0.1 with a free port, against the fixture's Redis and NATS.</summary>
internal sealed class GatewayApp : IAsyncDisposable
{
    public const string AdminKey = "admin-secret-for-tests";
    public const string DevelopmentKey = "dyn-development-key-for-tests";

    private readonly InProcessApp _app;

    private GatewayApp(InProcessApp app, string ns)
    {
        _app = app;
        Namespace = ns;
    }

    public Uri Address => _app.Address;

    public string Namespace { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayApp> StartAsync(ServersFixture servers, Dictionary<string, string?>? settings = null, string? ns = null, TimeProvider? time = null)
    {
        ns ??= "gw" + Guid.NewGuid().ToString("N")[..12];
        var defaults = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = servers.Redis.ConnectionString,
            ["ConnectionStrings:nats"] = servers.Nats.Url,
            ["Dynamo:Namespace"] = ns,
            ["Gateway:AdminKey"] = AdminKey,
            ["Gateway:DevelopmentKey"] = DevelopmentKey,
        };
        var app = await InProcessApp.StartAsync(
            new InProcessAppOptions { Settings = [defaults, settings ?? []] },
            b =>
            {
                if (time is not null)
                {
                    b.Services.AddSingleton(time);
                }

                b.AddGateway();
            },
            static a => a.MapGateway());
        var gateway = new GatewayApp(app, ns);
        await Eventually.TrueAsync(async () =>
        {
            using var client = gateway.CreateClient(DevelopmentKey);
            using var response = await client.GetAsync("/v1/models");
            return response.IsSuccessStatusCode;
        }, "the development key is provisioned");
        return gateway;
    }

    /// <summary>Registers a model card routed to <paramref name="routers"/> and makes the gateway read it now.</summary>
    public async Task RegisterModelAsync(string model, params Uri[] routers)
    {
        var card = new ModelCard(model, [.. routers.Select(r => r.ToString())], 4096, 16, DateTimeOffset.UtcNow);
        await Services.GetRequiredService<IModelRegistry>().SetAsync(card);
        await Services.GetRequiredService<ModelRouteTable>().RefreshAsync(CancellationToken.None);
    }

    public HttpClient CreateClient(string? apiKey = DevelopmentKey)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Chat(string model, bool stream = false) =>
        Json($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""");

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
