using Dynamo.TestSupport;
using System.Net.Http.Headers;
using System.Text;
using Dynamo.Gateway.Hosting;
using Dynamo.Gateway.Routing;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Gateway.Tests.Infrastructure;

/// <summary>The real gateway (as Program.cs composes it) on 127.0.0.1 with a free port, against the fixture's Redis and NATS.</summary>
internal sealed class GatewayApp : IAsyncDisposable
{
    public const string AdminKey = "admin-secret-for-tests";
    public const string DevelopmentKey = "dyn-development-key-for-tests";

    private readonly WebApplication _app;

    private GatewayApp(WebApplication app, Uri address, string ns)
    {
        _app = app;
        Address = address;
        Namespace = ns;
    }

    public Uri Address { get; }

    public string Namespace { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayApp> StartAsync(ServersFixture servers, Dictionary<string, string?>? settings = null, string? ns = null, TimeProvider? time = null)
    {
        ns ??= "gw" + Guid.NewGuid().ToString("N")[..12];
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = servers.Redis.ConnectionString,
            ["ConnectionStrings:nats"] = servers.Nats.Url,
            ["Dynamo:Namespace"] = ns,
            ["Gateway:AdminKey"] = AdminKey,
            ["Gateway:DevelopmentKey"] = DevelopmentKey,
        });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.AddServiceDefaults();
        builder.AddGatewayServices();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGatewayApi();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var gateway = new GatewayApp(app, new Uri(address), ns);
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

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
