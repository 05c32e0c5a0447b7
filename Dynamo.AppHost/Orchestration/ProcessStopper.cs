using System.Diagnostics;

namespace Dynamo.AppHost.Orchestration;

/// <summary>Graceful stop: SIGTERM, wait up to the grace period, then SIGKILL the process tree.</summary>
internal static class ProcessStopper
{
    public static async Task StopAsync(Process process, TimeSpan gracePeriod, TimeProvider time)
    {
        if (HasExited(process))
        {
            return;
        }

        _ = NativeMethods.Kill(process.Id, NativeMethods.SIGTERM);
        using var grace = new CancellationTokenSource(gracePeriod, time);
        try
        {
            await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited between the timeout and the kill.
        }

        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}
