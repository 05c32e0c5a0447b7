using System.Diagnostics;

namespace Dynamo.TestSupport;

/// <summary>
/// Kills a process the tests started if the test host dies without disposing it (crash, SIGKILL, a killed
/// <c>dotnet test</c>), so no orphan keeps a port or a cluster alive. Dispose it before stopping the process
/// yourself, so it cannot outlive the process and signal a recycled pid.
/// </summary>
public sealed class ProcessWatchdog : IDisposable
{
    private readonly Process? _watchdog;

    private ProcessWatchdog(Process? watchdog) => _watchdog = watchdog;

    /// <param name="signal">The signal sent to the orphan: KILL for servers; TERM lets an AppHost stop its own children.</param>
    public static ProcessWatchdog Watch(int pid, string signal = "KILL")
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return new ProcessWatchdog(null);
        }

        var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 {pid} 2>/dev/null; do sleep 1; done; kill -{signal} {pid} 2>/dev/null";
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        return new ProcessWatchdog(Process.Start(info));
    }

    public void Dispose()
    {
        if (_watchdog is null)
        {
            return;
        }

        if (!_watchdog.HasExited)
        {
            _watchdog.Kill();
        }

        _watchdog.WaitForExit();
        _watchdog.Dispose();
    }
}
