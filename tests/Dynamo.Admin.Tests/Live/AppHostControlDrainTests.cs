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
        _app.MapPost("/api/resources/{name}/replicas/{index:int}/drain", (string name, int index) =>
        {
            lock (_calls)
            {
                _calls.Add($"drain {name} {index}");
            }

            return index < 3
                ? Results.Accepted($"/api/resources/{name}")
                : Results.NotFound(new { error = $"No replica {index} of '{name}'." });
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

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Drain_AnyReplica_AsksTheAppHostToDrainExactlyThatOne(int replica)
    {
        await new AppHostControlClient(_http!).DrainAsync("worker", replica);

        Assert.Equal([$"drain worker {replica}"], _calls);
    }

    [Fact]
    public async Task Drain_UnknownReplica_ReportsTheAppHostsReason()
    {
        var ex = await Assert.ThrowsAsync<ControlException>(() => new AppHostControlClient(_http!).DrainAsync("worker", 5));

        Assert.Contains("No replica 5", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["drain worker 5"], _calls);
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
