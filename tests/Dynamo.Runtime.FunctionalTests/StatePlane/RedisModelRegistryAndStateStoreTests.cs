using System.Text.Json.Serialization;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;

namespace Dynamo.Runtime.FunctionalTests.StatePlane;

public sealed record SlaTargets(double TtftMs, double ItlMs);

[JsonSerializable(typeof(SlaTargets))]
internal sealed partial class TestJsonContext : JsonSerializerContext;

public sealed class RedisModelRegistryAndStateStoreTests : IAsyncLifetime
{
    private RedisServer _server = null!;

    public async Task InitializeAsync() => _server = await RedisServer.StartNewAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ModelRegistry_SetGetListRemove_RoundTripsAndFindsWorkers()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);
        var models = new RedisModelRegistry(harness.Connection, harness.Keys, harness.Registry);
        await harness.Registry.RegisterAsync(RegistryHarness.Worker("a", model: "llama"), TimeSpan.FromMinutes(1));
        await harness.Registry.RegisterAsync(RegistryHarness.Worker("b", model: "qwen"), TimeSpan.FromMinutes(1));

        await models.SetAsync(new ModelCard("qwen", ["http://r2"], 4096, 16, DateTimeOffset.UnixEpoch));
        await models.SetAsync(new ModelCard("llama", ["http://r1"], 8192, 16, DateTimeOffset.UnixEpoch));

        Assert.Equal(8192, (await models.GetAsync("llama"))!.ContextLength);
        Assert.Equal(["llama", "qwen"], (await models.ListAsync()).Select(c => c.Name));
        Assert.Equal(["a"], (await models.GetWorkersAsync("llama")).Select(w => w.WorkerId));
        Assert.True(await models.RemoveAsync("qwen"));
        Assert.Null(await models.GetAsync("qwen"));
        Assert.False(await models.RemoveAsync("qwen"));
    }

    [Fact]
    public async Task StateStore_DocumentsAndCounters_RoundTrip()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);
        var store = new RedisStateStore(harness.Connection, harness.Keys);

        await store.SetAsync("sla", "llama", new SlaTargets(200, 20), TestJsonContext.Default.SlaTargets);
        await store.SetAsync("sla", "qwen", new SlaTargets(300, 30), TestJsonContext.Default.SlaTargets);
        await store.IncrementAsync("usage", "key-1", 5);
        var total = await store.IncrementAsync("usage", "key-1", 2);

        Assert.Equal(new SlaTargets(200, 20), await store.GetAsync("sla", "llama", TestJsonContext.Default.SlaTargets));
        Assert.Equal(2, (await store.ListAsync("sla", TestJsonContext.Default.SlaTargets)).Count);
        Assert.True(await store.DeleteAsync("sla", "qwen"));
        Assert.Null(await store.GetAsync("sla", "qwen", TestJsonContext.Default.SlaTargets));
        Assert.Equal(7, total);
        Assert.Equal(7, await store.GetCounterAsync("usage", "key-1"));
        Assert.Equal(0, await store.GetCounterAsync("usage", "unknown"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync("bad.collection", "x", TestJsonContext.Default.SlaTargets));
    }

    [Fact]
    public async Task StateStore_CappedLog_KeepsTheNewestEntriesNewestFirst()
    {
        await using var harness = new RegistryHarness(_server.ConnectionString);
        var store = new RedisStateStore(harness.Connection, harness.Keys);

        for (var i = 1; i <= 5; i++)
        {
            await store.AppendAsync("decisions", new SlaTargets(i, i), TestJsonContext.Default.SlaTargets, maxLength: 3);
        }

        Assert.Equal([5.0, 4.0, 3.0], (await store.ReadLogAsync("decisions", 10, TestJsonContext.Default.SlaTargets)).Select(e => e.TtftMs));
        Assert.Equal([5.0], (await store.ReadLogAsync("decisions", 1, TestJsonContext.Default.SlaTargets)).Select(e => e.TtftMs));
        Assert.Empty(await store.ReadLogAsync("empty", 10, TestJsonContext.Default.SlaTargets));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AppendAsync("decisions", new SlaTargets(1, 1), TestJsonContext.Default.SlaTargets, 0));
    }
}
