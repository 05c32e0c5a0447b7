using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dynamo.Runtime.FunctionalTests.StatePlane;

/// <summary>A registry on its own namespace against a given Redis, with quick reconciliation for tests.</summary>
internal sealed class RegistryHarness : IAsyncDisposable
{
    public RegistryHarness(string connectionString, bool keyspaceNotifications = true)
    {
        var options = Options.Create(new RedisStateOptions
        {
            ConnectionString = connectionString,
            ReconciliationInterval = TimeSpan.FromMilliseconds(300),
            EnableKeyspaceNotifications = keyspaceNotifications,
        });
        Connection = new RedisConnection(options, NullLogger<RedisConnection>.Instance);
        Keys = new StateKeys("t" + Guid.NewGuid().ToString("N")[..8]);
        Registry = new RedisWorkerRegistry(Connection, Keys, TimeProvider.System, NullLoggerFactory.Instance);
    }

    public RedisConnection Connection { get; }

    public StateKeys Keys { get; }

    public RedisWorkerRegistry Registry { get; }

    public static WorkerRegistration Worker(string id, string model = "m") =>
        new(id, model, WorkerRole.Aggregated, "mocker", new WorkerEndpoints($"http://127.0.0.1:1/{id}"), 16, 1024, DateTimeOffset.UnixEpoch);

    public async Task<bool> IsListedAsync(string workerId) =>
        (await Registry.ListAsync()).Workers.Any(w => w.WorkerId == workerId);

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
