using System.Text.Json;
using Dynamo.Admin.Control;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dynamo.Admin.Tests.Live;

/// <summary>The control client against a hand-written stand-in of the AppHost control API on a real loopback port.</summary>
public sealed class AppHostControlDrainTests : IAsyncLifetime
{
    private readonly List<string> _calls = [];
    private WebApplication? _app;
    private HttpClient? _http;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapGet("/api/resources/worker", () => Results.Text(
            """{"name":"worker","type":"project","state":"Running","replicas":[{"index":0,"name":"worker-0","state":"Running","url":"http://127.0.0.1:1","pid":1,"restarts":0,"instanceId":"worker-0-0123abcd"},{"index":1,"name":"worker-1","state":"Running","url":"http://127.0.0.1:2","pid":2,"restarts":0,"instanceId":"worker-1-0123abcd"}]}""",
            "application/json"));
        _app.MapPost("/api/resources/{name}/scale", async (string name, HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            lock (_calls)
            {
                _calls.Add($"scale {name} {body.RootElement.GetProperty("replicas").GetInt32()}");
            }

            return Results.Accepted();
        });
        _app.MapPost("/api/resources/{name}/replicas/{index:int}/restart", (string name, int index) =>
        {
            lock (_calls)
            {
                _calls.Add($"restart {name} {index}");
            }

            return index < 2 ? Results.Accepted() : Results.NotFound(new { error = $"No replica {index} of '{name}'." });
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(address + "/") };
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Drain_HighestReplica_ScalesDownByOne()
    {
        await new AppHostControlClient(_http!).DrainAsync("worker", 1);

        Assert.Equal(["scale worker 1"], _calls);
    }

    [Fact]
    public async Task Drain_LowerReplica_RefusesWithoutTouchingTheAppHost()
    {
        var ex = await Assert.ThrowsAsync<ControlException>(() => new AppHostControlClient(_http!).DrainAsync("worker", 0));

        Assert.Contains("highest replica", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_calls);
    }

    [Fact]
    public async Task Restart_UnknownReplica_ReportsTheAppHostsReason()
    {
        var ex = await Assert.ThrowsAsync<ControlException>(() => new AppHostControlClient(_http!).RestartAsync("worker", 5));

        Assert.Contains("No replica 5", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["restart worker 5"], _calls);
    }

    [Fact]
    public async Task Restart_NoAppHostConfigured_SaysWhatToSet()
    {
        using var unconfigured = new HttpClient();

        var ex = await Assert.ThrowsAsync<ControlException>(() => new AppHostControlClient(unconfigured).RestartAsync("worker", 0));

        Assert.Contains("services:apphost:http:0", ex.Message, StringComparison.Ordinal);
    }
}
