using Dynamo.TestSupport;
using System.Diagnostics;
using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Tests.Infrastructure;

namespace Dynamo.AppHost.Tests.Orchestration;

public sealed class ProcessStopperTests
{
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task StopAsync_ChildHandlesSigterm_ExitsOnItsOwnWithinGrace()
    {
        // The fake clock never moves, so only a graceful exit can end StopAsync.
        var time = new ManualTimeProvider();
        using var child = StartShell("trap 'exit 0' TERM; while true; do sleep 0.05; done");

        await StopBoundedAsync(ProcessStopper.StopAsync(child, s_grace, time));

        Assert.Equal(0, child.ExitCode);
    }

    [Fact]
    public async Task StopAsync_ChildIgnoresSigterm_KilledWhenGraceEnds()
    {
        var time = new ManualTimeProvider();
        using var child = StartShell("trap '' TERM; while true; do sleep 0.05; done");
        var stopping = ProcessStopper.StopAsync(child, s_grace, time);

        await Task.Delay(300);
        Assert.False(stopping.IsCompleted, "the child ignores SIGTERM, so it must still be running within the grace period");
        time.Advance(s_grace);
        await StopBoundedAsync(stopping);

        Assert.True(child.HasExited);
        Assert.Equal(128 + ProcessProbe.SIGKILL, child.ExitCode);
    }

    private static Process StartShell(string script)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        var process = Process.Start(info)!;
        // Let the shell install its trap before it is signalled.
        Thread.Sleep(200);
        return process;
    }

    private static async Task StopBoundedAsync(Task stopping)
        => await stopping.WaitAsync(TimeSpan.FromSeconds(30));
}
