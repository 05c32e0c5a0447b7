using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Tests.Infrastructure;

namespace Dynamo.AppHost.Tests.Cluster;

/// <summary>Each test starts its own cluster, because each ends it.</summary>
public sealed class AppHostShutdownTests
{
    [Fact]
    public async Task Sigterm_StopsEveryChildGracefullyAndExitsZero()
    {
        await using var appHost = AppHostProcess.Start("--no-build", "--grace-period", "10");
        var endpoints = await appHost.WaitUntilAllRunningAsync();
        var pids = endpoints.Resources.Values.SelectMany(r => r.Pids).ToList();
        Assert.Equal(7, pids.Count);

        appHost.Signal(NativeMethods.SIGTERM);

        Assert.True(await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the AppHost did not exit after SIGTERM");
        Assert.Equal(0, appHost.ExitCode);
        Assert.DoesNotContain(pids, ProcessProbe.IsAlive);
        Assert.False(File.Exists(appHost.EndpointsPath), "endpoints.json should be removed on a clean stop");
        Assert.Contains("All children stopped", appHost.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigkill_ChildrenDieWithTheAppHost()
    {
        await using var appHost = AppHostProcess.Start("--no-build");
        var endpoints = await appHost.WaitUntilAllRunningAsync();
        var pids = endpoints.Resources.Values.SelectMany(r => r.Pids).ToList();
        Assert.Equal(7, pids.Count);

        appHost.Signal(ProcessProbe.SIGKILL);

        Assert.True(await appHost.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await ProcessProbe.WaitAllDeadAsync(pids, TimeSpan.FromSeconds(15)),
            $"orphans left: {string.Join(", ", pids.Where(ProcessProbe.IsAlive))}");
    }
}
