using System.Collections.Concurrent;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dynamo.Runtime.FunctionalTests.StatePlane;

public sealed class RedisWorkerRegistryTests : IAsyncLifetime
{
    private RedisServer _server = null!;

    public async Task InitializeAsync() => _server = await RedisServer.StartNewAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task RegisterAsync_ThenUnregister_ListReflectsBoth()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);

        await harness.Registry.RegisterAsync(RegistryHarness.Worker("w1"), TimeSpan.FromMinutes(1));
        var listing = await harness.Registry.ListAsync();
        await harness.Registry.UnregisterAsync("w1");

        var registered = Assert.Single(listing.Workers);
        Assert.Equal("w1", registered.WorkerId);
        Assert.False(listing.IsStale);
        Assert.False(await harness.IsListedAsync("w1"));
    }

    [Fact]
    public async Task RegisterAsync_NoHeartbeat_DisappearsAndWatcherSeesExpiry()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);
        var changes = new ConcurrentQueue<WorkerChange>();
        await using var watch = await harness.Registry.WatchAsync((c, _) => { changes.Enqueue(c); return ValueTask.CompletedTask; });

        await harness.Registry.RegisterAsync(RegistryHarness.Worker("short-lived"), TimeSpan.FromSeconds(2));
        Assert.True(await harness.IsListedAsync("short-lived"));

        await Eventually.TrueAsync(async () => !await harness.IsListedAsync("short-lived"), "lease expired");
        await Eventually.TrueAsync(() => changes.Any(c => c is { Kind: WorkerChangeKind.Expired, WorkerId: "short-lived" }), "expiry reported");
        Assert.Equal(WorkerChangeKind.Registered, changes.First().Kind);
        var multiplexer = await harness.Connection.GetAsync();
        var flags = multiplexer.GetServer(multiplexer.GetEndPoints()[0]).ConfigGet("notify-keyspace-events")[0].Value;
        Assert.Contains('E', flags);
        Assert.Contains('x', flags);
    }

    [Fact]
    public async Task WatchAsync_KeyspaceNotificationsOff_ReconciliationReportsExpiry()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString, keyspaceNotifications: false);
        var changes = new ConcurrentQueue<WorkerChange>();
        await using var watch = await harness.Registry.WatchAsync((c, _) => { changes.Enqueue(c); return ValueTask.CompletedTask; });

        await harness.Registry.RegisterAsync(RegistryHarness.Worker("quiet"), TimeSpan.FromSeconds(1));

        await Eventually.TrueAsync(() => changes.Any(c => c is { Kind: WorkerChangeKind.Expired, WorkerId: "quiet" }), "expiry found by reconciliation");
    }

    [Fact]
    public async Task WatchAsync_RegisterAndUnregister_ReportedInOrder()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);
        var changes = new ConcurrentQueue<WorkerChange>();
        await using var watch = await harness.Registry.WatchAsync((c, _) => { changes.Enqueue(c); return ValueTask.CompletedTask; });

        await harness.Registry.RegisterAsync(RegistryHarness.Worker("w2", model: "llama"), TimeSpan.FromMinutes(1));
        await harness.Registry.UnregisterAsync("w2");

        await Eventually.TrueAsync(() => changes.Count >= 2, "two changes reported");
        var list = changes.ToList();
        Assert.Equal((WorkerChangeKind.Registered, "w2", "llama"), (list[0].Kind, list[0].WorkerId, list[0].Registration?.Model));
        Assert.Equal((WorkerChangeKind.Unregistered, "w2"), (list[1].Kind, list[1].WorkerId));
    }

    [Fact]
    public async Task LeaseKeeper_Running_KeepsLeaseBeyondTtlAndUnregistersOnStop()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);
        var ttl = TimeSpan.FromSeconds(1);
        using var keeper = new LeaseKeeper(harness.Registry, RegistryHarness.Worker("kept"), ttl, TimeProvider.System, NullLogger<LeaseKeeper>.Instance);

        await keeper.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => keeper.IsRegistered, "lease created");
        await Task.Delay(3 * ttl);
        var listedAfterSeveralTtls = await harness.IsListedAsync("kept");
        await keeper.StopAsync(CancellationToken.None);

        Assert.True(listedAfterSeveralTtls);
        Assert.False(await harness.IsListedAsync("kept"));
    }

    [Fact]
    public async Task Registry_RedisDown_DegradesToStaleListAndRecovers()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);
        await harness.Registry.RegisterAsync(RegistryHarness.Worker("w3"), TimeSpan.FromMinutes(1));
        await harness.Registry.ListAsync();

        await _server.StopAsync();
        await Eventually.TrueAsync(() => !harness.Registry.IsAvailable, "registry notices Redis is gone");
        var stale = await harness.Registry.ListAsync();
        await Assert.ThrowsAsync<StatePlaneUnavailableException>(() => harness.Registry.RegisterAsync(RegistryHarness.Worker("w4"), TimeSpan.FromMinutes(1)));

        Assert.True(stale.IsStale);
        Assert.Equal("w3", Assert.Single(stale.Workers).WorkerId);

        await _server.StartAsync();
        await Eventually.TrueAsync(() => harness.Registry.IsAvailable, "registry reconnects");
        // IsConnected turns true while the multiplexer is still handshaking (role, config), so the first
        // transaction may still find no ready connection; a caller retries, as the LeaseKeeper does.
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await harness.Registry.RegisterAsync(RegistryHarness.Worker("w4"), TimeSpan.FromMinutes(1));
                return true;
            }
            catch (StatePlaneUnavailableException)
            {
                return false;
            }
        }, "register succeeds after the reconnect");
        var fresh = await harness.Registry.ListAsync();
        Assert.False(fresh.IsStale);
        Assert.Equal(["w4"], fresh.Workers.Select(w => w.WorkerId));
    }

    [Fact]
    public async Task LeaseKeeper_RedisRestartedEmpty_ReRegistersWorker()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);
        using var keeper = new LeaseKeeper(harness.Registry, RegistryHarness.Worker("survivor"), TimeSpan.FromSeconds(1), TimeProvider.System, NullLogger<LeaseKeeper>.Instance);
        await keeper.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => keeper.IsRegistered, "lease created");

        // No persistence: the restarted server is empty and the lease is gone.
        await _server.RestartAsync();

        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return await harness.IsListedAsync("survivor") && !(await harness.Registry.ListAsync()).IsStale;
            }
            catch (StatePlaneUnavailableException)
            {
                return false;
            }
        }, "worker registered again after the restart");
        await keeper.StopAsync(CancellationToken.None);
    }
}
