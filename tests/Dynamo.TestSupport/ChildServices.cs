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

    // Ports drawn below the ephemeral range: this many of them.
    private const int PortSpan = 12_000;

    private static readonly Lock PortGate = new();
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A free loopback port for a server to bind, drawn below the kernel's ephemeral range and never handed out twice by
    /// this process. A port probed with port 0 comes from the ephemeral range, and in the seconds before a child binds
    /// it an outgoing connection (NATS, Redis, HTTP) or the next probe can take it: both happened when a bench started
    /// eight workers and a router at once.
    /// </summary>
    public static int FreePort()
    {
        lock (PortGate)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(EphemeralFloor - PortSpan, EphemeralFloor);
                if (!HandedOut.Contains(port) && CanBind(port))
                {
                    HandedOut.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No free loopback port found in [{EphemeralFloor - PortSpan}, {EphemeralFloor}).");
    }

    /// <summary>The lowest ephemeral port (Linux: first field of ip_local_port_range; 32768 elsewhere or if unreadable).</summary>
    private static int EphemeralFloor { get; } = ReadEphemeralFloor();

    private static int ReadEphemeralFloor()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        var fields = File.Exists(range) ? File.ReadAllText(range).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries) : [];
        return fields.Length > 0 && int.TryParse(fields[0], out var floor) && floor > PortSpan + 1024 ? floor : 32_768;
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
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
