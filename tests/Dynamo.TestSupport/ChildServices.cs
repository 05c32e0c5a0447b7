using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Dynamo.TestSupport;

/// <summary>
/// Built services (<c>dotnet X.dll</c>) run as child processes for benches: each logs to its own file, is killed
/// by a watchdog if this process dies, and is killed on dispose. Waiting for health fails fast when a child exits.
/// </summary>
public sealed class ChildServices(string logDirectory) : IAsyncDisposable
{
    private readonly List<(Process Process, ProcessWatchdog Watchdog)> _children = [];

    public string LogDirectory { get; } = logDirectory;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Start(string dll, IReadOnlyDictionary<string, string> environment, string logName)
    {
        // exec keeps the pid the dotnet process's own; the shell only redirects its output to the log.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)! };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec dotnet \"$0\" >\"$1\" 2>&1");
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add(Path.Combine(LogDirectory, logName));
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {dll}.");
        _children.Add((process, ProcessWatchdog.Watch(process.Id)));
    }

    /// <summary>Polls <paramref name="url"/> until it answers 2xx; throws as soon as any child has exited.</summary>
    public async Task WaitHealthyAsync(HttpClient http, Uri url, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_children.FirstOrDefault(static c => c.Process.HasExited) is { Process: { } exited })
            {
                throw new InvalidOperationException($"A child process exited with code {exited.ExitCode}; see the logs in {LogDirectory}.");
            }

            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A slow start-up answered after the client's timeout; ask again.
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (process, watchdog) in _children)
        {
            watchdog.Dispose();
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        _children.Clear();
    }
}
