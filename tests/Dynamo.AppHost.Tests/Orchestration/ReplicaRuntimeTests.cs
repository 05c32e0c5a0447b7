using Dynamo.TestSupport;
using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dynamo.AppHost.Tests.Orchestration;

public sealed class ReplicaRuntimeTests
{
    private static readonly TimeSpan s_step = TimeSpan.FromMilliseconds(100);
    private readonly ManualTimeProvider _time = new();
    private int _launches;

    [Fact]
    public async Task CrashingChild_RestartsAfterDoublingBackoff()
    {
        var replica = CreateReplica(new LaunchSpec("crashy-0", "/bin/sh", ["-c", "exit 3"], new Dictionary<string, string>(), Path.GetTempPath()));
        replica.Start();
        try
        {
            await WaitAsync(() => replica.State == ReplicaState.Restarting);
            Assert.Equal(1, Volatile.Read(ref _launches));

            var firstWait = await AdvanceUntilAsync(() => Volatile.Read(ref _launches) >= 2);
            await WaitAsync(() => replica.State == ReplicaState.Restarting);
            var secondWait = await AdvanceUntilAsync(() => Volatile.Read(ref _launches) >= 3);

            Assert.True(firstWait >= TimeSpan.FromMilliseconds(500), $"restarted after {firstWait}");
            Assert.True(secondWait >= TimeSpan.FromMilliseconds(1000), $"second restart after {secondWait}");
            Assert.True(replica.Snapshot("x").Restarts >= 2);
        }
        finally
        {
            await replica.StopAsync();
        }

        Assert.Equal(ReplicaState.Stopped, replica.State);
    }

    [Fact]
    public async Task Stop_DuringBackoff_DoesNotRestart()
    {
        var replica = CreateReplica(new LaunchSpec("crashy-0", "/bin/sh", ["-c", "exit 1"], new Dictionary<string, string>(), Path.GetTempPath()));
        replica.Start();
        await WaitAsync(() => replica.State == ReplicaState.Restarting);

        await replica.StopAsync();
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(ReplicaState.Stopped, replica.State);
        Assert.Equal(1, Volatile.Read(ref _launches));
    }

    private ReplicaRuntime CreateReplica(LaunchSpec spec)
    {
        var options = Options.Create(new AppHostOptions { RestartBaseDelayMilliseconds = 500, RestartMaxDelaySeconds = 30, GracePeriodSeconds = 1 });
        var services = new OrchestrationServices(
            options,
            new ProcessSpawner(new ChildLogWriter(TextWriter.Null), NullLogger<ProcessSpawner>.Instance),
            new ReadinessProber(_time),
            _time,
            NullLogger<Orchestrator>.Instance);
        return new ReplicaRuntime("crashy", 0, PortAllocator.GetFreePort(), ReadinessProbe.HttpHealth, (_, _) =>
        {
            Interlocked.Increment(ref _launches);
            return spec;
        }, services, () => { });
    }

    /// <summary>Moves the fake clock in small steps until the condition holds; returns how much fake time that took.</summary>
    private async Task<TimeSpan> AdvanceUntilAsync(Func<bool> condition)
    {
        var advanced = TimeSpan.Zero;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached");
            _time.Advance(s_step);
            advanced += s_step;
            await Task.Delay(20);
        }

        return advanced;
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached");
            await Task.Delay(10);
        }
    }
}
