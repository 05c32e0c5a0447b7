using System.Diagnostics;
using System.Net.Sockets;

namespace Dynamo.TestSupport;

/// <summary>
/// A real server executable on a free 127.0.0.1 port with its files in a temporary folder. It can be stopped and
/// restarted on the same port (to test reconnects), and a watchdog kills it if the test process dies first.
/// </summary>
public abstract class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(20);
    private readonly string _executable;
    private Process? _server;
    private ProcessWatchdog? _watchdog;
    private bool _disposed;

    protected ServerProcess(string executableName, string installHint, string? overrideVariable)
    {
        _executable = FindExecutable(executableName, overrideVariable)
            ?? throw new InvalidOperationException(
                $"{executableName} was not found on PATH, /usr/sbin or /usr/bin{(overrideVariable is null ? "" : $" (or ${overrideVariable})")}. Install it: {installHint}");
        Port = ChildServices.FreePort();
        DataDirectory = Directory.CreateTempSubdirectory($"dynamo-{executableName}-").FullName;
    }

    public int Port { get; }

    public string DataDirectory { get; }

    public bool IsRunning => _server is { HasExited: false };

    /// <summary>Starts the server (again) on <see cref="Port"/> and waits until it answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning)
        {
            return;
        }

        var info = new ProcessStartInfo(_executable) { UseShellExecute = false, RedirectStandardOutput = false, RedirectStandardError = false };
        foreach (var argument in Arguments())
        {
            info.ArgumentList.Add(argument);
        }

        _server = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {_executable}.");
        _watchdog = ProcessWatchdog.Watch(_server.Id);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_startTimeout);
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"{Path.GetFileName(_executable)} exited with code {_server.ExitCode} on port {Port}. Log: {ReadLog()}");
            }

            try
            {
                if (await IsReadyAsync(timeout.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{Path.GetFileName(_executable)} did not accept connections on port {Port} within {s_startTimeout}. Log: {ReadLog()}");
            }

            await Task.Delay(50, timeout.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the server and waits for it to exit; <see cref="StartAsync"/> brings it back on the same port.</summary>
    public async Task StopAsync()
    {
        // The watchdog goes first so it cannot outlive the server and signal a recycled pid.
        _watchdog?.Dispose();
        _watchdog = null;

        var server = _server;
        _server = null;
        if (server is not null)
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }

            await server.WaitForExitAsync().ConfigureAwait(false);
            server.Dispose();
        }
    }

    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync().ConfigureAwait(false);
        await StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Starts <paramref name="server"/>; if it cannot start, disposes it before the error reaches the caller.</summary>
    protected static async Task<T> StartOwnedAsync<T>(T server, CancellationToken cancellationToken)
        where T : ServerProcess
    {
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected abstract IEnumerable<string> Arguments();

    /// <summary>Whether the server accepts and answers a connection on <see cref="Port"/>.</summary>
    protected abstract Task<bool> IsReadyAsync(CancellationToken cancellationToken);

    protected abstract string LogPath { get; }

    private string ReadLog()
    {
        try
        {
            return File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no log)";
        }
        catch (IOException ex)
        {
            return $"(log unreadable: {ex.Message})";
        }
    }

    private static string? FindExecutable(string name, string? overrideVariable)
    {
        if (overrideVariable is not null && Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } explicitPath)
        {
            return File.Exists(explicitPath) ? explicitPath : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin"])
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }
}
