using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dynamo.AppHost.Tests.Orchestration;

/// <summary>Replica identity under drain and scale, with real (sleeping) child processes.</summary>
public sealed class ResourceRuntimeTests : IAsyncLifetime
{
    private readonly ResourceRuntime _runtime;
    private readonly List<int> _launchedIndexes = [];
    private int _left;

    public ResourceRuntimeTests()
    {
        var options = Options.Create(new AppHostOptions { GracePeriodSeconds = 5, HealthTimeoutSeconds = 120 });
        var services = new OrchestrationServices(
            options,
            new ProcessSpawner(new ChildLogWriter(TextWriter.Null), NullLogger<ProcessSpawner>.Instance),
            new ReadinessProber(TimeProvider.System),
            TimeProvider.System,
            NullLogger<Orchestrator>.Instance);
        _runtime = new ResourceRuntime(
            new ExecutableResource("sleeper", "sleep", ReadinessProbe.HttpHealth),
            PortAllocator.GetFreePort(),
            index => new ReplicaRuntime("sleeper", index, PortAllocator.GetFreePort(), ReadinessProbe.HttpHealth, (_, _) =>
            {
                lock (_launchedIndexes)
                {
                    _launchedIndexes.Add(index);
                }

                return new LaunchSpec($"sleeper-{index}", "/bin/sleep", ["300"], new Dictionary<string, string>(), Path.GetTempPath());
            }, services, () => { }),
            () => Interlocked.Increment(ref _left));
    }

    public Task InitializeAsync() => _runtime.ScaleAsync(3);

    public Task DisposeAsync() => _runtime.StopAsync();

    [Fact]
    public async Task Drain_MiddleReplica_OthersKeepIndexAndProcessAndItsProcessExits()
    {
        var before = await WaitForPidsAsync(3);
        var drainedPid = before.Replicas[1].Pid!.Value;

        var drained = _runtime.Drain(1);

        Assert.NotNull(drained);
        Assert.Equal([0, 2], _runtime.Replicas.Select(r => r.Index));
        Assert.Equal(2, _runtime.Snapshot().DesiredReplicas);
        await drained;
        var after = _runtime.Snapshot();
        Assert.Equal([0, 2], after.Replicas.Select(r => r.Index));
        Assert.Equal([before.Replicas[0].Pid, before.Replicas[2].Pid], after.Replicas.Select(r => r.Pid));
        Assert.False(ProcessProbe.IsAlive(drainedPid));
        Assert.Equal(1, Volatile.Read(ref _left));
    }

    [Fact]
    public async Task Scale_AfterDrain_RefillsTheLowestFreeIndexThenShrinksFromTheTop()
    {
        await WaitForPidsAsync(3);
        await _runtime.Drain(0)!;

        await _runtime.ScaleAsync(4);
        Assert.Equal([0, 1, 2, 3], _runtime.Replicas.Select(r => r.Index));
        await WaitForPidsAsync(4);
        Assert.Equal([0, 0, 1, 2, 3], Launched().Order());

        await _runtime.ScaleAsync(2);
        Assert.Equal([0, 1], _runtime.Replicas.Select(r => r.Index));
        Assert.Equal(2, _runtime.Snapshot().Replicas.Count);
    }

    [Fact]
    public async Task DrainAndRestart_UnknownIndex_Refused()
    {
        await WaitForPidsAsync(3);

        Assert.Null(_runtime.Drain(3));
        Assert.False(_runtime.RequestRestart(3));
        await _runtime.Drain(2)!;
        Assert.Null(_runtime.Drain(2));
        Assert.False(_runtime.RequestRestart(2));
        Assert.True(_runtime.RequestRestart(1));
    }

    private List<int> Launched()
    {
        lock (_launchedIndexes)
        {
            return [.. _launchedIndexes];
        }
    }

    private async Task<ResourceSnapshot> WaitForPidsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var snapshot = _runtime.Snapshot();
            if (snapshot.Replicas.Count(r => r.Pid is not null) == count)
            {
                return snapshot;
            }

            Assert.True(DateTime.UtcNow < deadline, "the sleeping replicas never started");
            await Task.Delay(50);
        }
    }
}
