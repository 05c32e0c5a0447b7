using Dynamo.Gateway.Hosting;
using Dynamo.Gateway.Routing;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamo.Gateway.Bench;

/// <summary>The gateway as Program.cs composes it, with auth, limits (counted in Redis) and telemetry on, in front of one model.</summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    public const string ApiKey = "dyn-bench-development-key";

    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <param name="limits">False sets both default limits to 0 (unlimited), taking the per-key counters off the request path.</param>
    /// <param name="serverTiming">Answers with the gateway's stage split (<c>Gateway:ServerTiming</c>), which the full-path mode prints.</param>
    public static async Task<GatewayHost> StartAsync(string redis, string nats, string model, Uri backend, bool limits, bool serverTiming = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis,
            ["ConnectionStrings:nats"] = nats,
            ["Gateway:AdminKey"] = "bench-admin-key",
            ["Gateway:DevelopmentKey"] = ApiKey,
            // High, not unlimited: the per-key counting stays in the measured path.
            ["Gateway:DefaultRequestsPerMinute"] = limits ? "100000000" : "0",
            ["Gateway:DefaultTokensPerMinute"] = limits ? "2000000000" : "0",
            ["Gateway:ServerTiming"] = serverTiming ? "true" : "false",
        });
        builder.AddServiceDefaults();
        builder.AddGatewayServices();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGatewayApi();
        await app.StartAsync();
        var card = new ModelCard(model, [backend.ToString()], 4096, 16, DateTimeOffset.UtcNow);
        await app.Services.GetRequiredService<IModelRegistry>().SetAsync(card);
        await app.Services.GetRequiredService<ModelRouteTable>().RefreshAsync(CancellationToken.None);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new GatewayHost(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
