using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace Dynamo.AppHost.Orchestration;

/// <summary>
/// Ctrl+C, SIGTERM and SIGQUIT start the graceful stop of every child. A second Ctrl+C while stopping is not
/// intercepted, so it ends the AppHost at once; the children then die through their parent-death signal.
/// </summary>
internal sealed class AppHostLifetime(IHostApplicationLifetime lifetime) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _stopping;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 0)
        {
            context.Cancel = true;
            Console.Error.WriteLine($"Dynamo.AppHost: {context.Signal} received, stopping (press Ctrl+C again to kill).");
            lifetime.StopApplication();
        }
    }
}

/// <summary>The exit code the AppHost returns once the host has stopped.</summary>
internal sealed class ExitCodeHolder
{
    private int _exitCode;

    public int ExitCode => Volatile.Read(ref _exitCode);

    public void Fail(int exitCode) => Interlocked.CompareExchange(ref _exitCode, exitCode, 0);
}
