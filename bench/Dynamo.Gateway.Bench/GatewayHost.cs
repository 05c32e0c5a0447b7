using Dynamo.Gateway.Hosting;
using Dynamo.Gateway.Routing;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamo.Gateway.Bench;

/// <summary>The gateway as Program.cs composes it, with auth, limits (counted in Redis) and telemetry on, in front of one model.</summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    public const string ApiKey = "dyn-bench-development-key";

    private readonly InProcessApp _app;

    private GatewayHost(InProcessApp app) => _app = app;

    public Uri Address => _app.Address;

    /// <param name="limits">False sets both default limits to 0 (unlimited), taking the per-key counters off the request path.</param>
    /// <param name="serverTiming">Answers with the gateway's stage split (<c>Gateway:ServerTiming</c>), which the full-path mode prints.</param>
    public static async Task<GatewayHost> StartAsync(string redis, string nats, string model, Uri backend, bool limits, bool serverTiming = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis,
            ["ConnectionStrings:nats"] = nats,
            ["Gateway:AdminKey"] = "bench-admin-key",
            ["Gateway:DevelopmentKey"] = ApiKey,
            // High, not unlimited: the per-key counting stays in the measured path.
            ["Gateway:DefaultRequestsPerMinute"] = limits ? "100000000" : "0",
            ["Gateway:DefaultTokensPerMinute"] = limits ? "2000000000" : "0",
            ["Gateway:ServerTiming"] = serverTiming ? "true" : "false",
        };
        var app = await InProcessApp.StartAsync(
            new InProcessAppOptions { EnvironmentName = Environments.Production, Settings = [settings] },
            static b =>
            {
                b.Logging.SetMinimumLevel(LogLevel.Warning);
                b.AddGateway();
            },
            static a => a.MapGateway());
        var card = new ModelCard(model, [backend.ToString()], 4096, 16, DateTimeOffset.UtcNow);
        await app.Services.GetRequiredService<IModelRegistry>().SetAsync(card);
        await app.Services.GetRequiredService<ModelRouteTable>().RefreshAsync(CancellationToken.None);
        return new GatewayHost(app);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
