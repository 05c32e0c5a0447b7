using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dynamo.TestSupport;

namespace Dynamo.Replay;

/// <summary>Settings of one fresh cluster: nats + redis, N mocker workers and one router, all real processes.</summary>
public sealed record ClusterSettings(
    int Workers, double SpeedUp, int BlockSize, long KvCapacityBlocks, string Model, string ModelPath,
    string WorkerDll, string RouterDll, string Policy, string LogDirectory);

/// <summary>
/// Starts the servers and the .NET processes as children (killed on dispose, and by a watchdog if this process dies),
/// so every policy runs on workers whose caches start empty.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly List<(Process Process, ProcessWatchdog Watchdog)> _children = [];
    private NatsServer? _nats;
    private RedisServer? _redis;

    private Cluster()
    {
    }

    public Uri RouterUrl { get; private set; } = null!;

    public static async Task<Cluster> StartAsync(ClusterSettings settings, CancellationToken cancellationToken)
    {
        var cluster = new Cluster();
        try
        {
            await cluster.StartCoreAsync(settings, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(ClusterSettings s, CancellationToken cancellationToken)
    {
        _nats = await NatsServer.StartNewAsync(cancellationToken);
        _redis = await RedisServer.StartNewAsync(cancellationToken);
        var common = new Dictionary<string, string>
        {
            ["ConnectionStrings__nats"] = _nats.Url,
            ["ConnectionStrings__redis"] = _redis.ConnectionString,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        var workerUrls = new List<Uri>();
        for (var i = 0; i < s.Workers; i++)
        {
            var port = FreePort();
            var env = new Dictionary<string, string>(common)
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["DYNAMO_INSTANCE_ID"] = $"replay-worker-{i}",
                ["Worker__Model"] = s.Model,
                ["Worker__ModelPath"] = s.ModelPath,
                ["Worker__Engine"] = "mocker",
                ["Worker__BlockSize"] = s.BlockSize.ToString(CultureInfo.InvariantCulture),
                ["Worker__KvCapacityBlocks"] = s.KvCapacityBlocks.ToString(CultureInfo.InvariantCulture),
                ["Worker__Mocker__SpeedUp"] = s.SpeedUp.ToString(CultureInfo.InvariantCulture),
            };
            Start(s.WorkerDll, env, Path.Combine(s.LogDirectory, $"worker-{i}.log"));
            workerUrls.Add(new Uri($"http://127.0.0.1:{port}"));
        }

        var routerPort = FreePort();
        var routerEnv = new Dictionary<string, string>(common)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{routerPort}",
            ["DYNAMO_INSTANCE_ID"] = "replay-router",
            ["Router__Model"] = s.Model,
            ["Router__ModelPath"] = s.ModelPath,
            ["Router__KvBlockSize"] = s.BlockSize.ToString(CultureInfo.InvariantCulture),
            ["Router__Routing__Policy"] = s.Policy,
        };
        Start(s.RouterDll, routerEnv, Path.Combine(s.LogDirectory, "router.log"));
        RouterUrl = new Uri($"http://127.0.0.1:{routerPort}");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(3));
        foreach (var url in workerUrls.Append(RouterUrl))
        {
            await WaitHealthyAsync(http, new Uri(url, "/health"), s.LogDirectory, deadline.Token);
        }

        // Healthy workers register in Redis and the router's watch picks them up shortly after; give it a moment
        // so the first requests see the whole pool, not the first worker alone.
        await WaitHealthyAsync(http, new Uri(RouterUrl, "/v1/models"), s.LogDirectory, deadline.Token);
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
    }

    private async Task WaitHealthyAsync(HttpClient http, Uri url, string logDirectory, CancellationToken cancellationToken)
    {
        while (true)
        {
            foreach (var (process, _) in _children)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"A cluster process exited with code {process.ExitCode}; see the logs in {logDirectory}.");
                }
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

    private void Start(string dll, Dictionary<string, string> env, string logPath)
    {
        // exec keeps the pid the dotnet process's own; the shell only redirects its output to the log.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)! };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec dotnet \"$0\" >\"$1\" 2>&1");
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add(logPath);
        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {dll}.");
        _children.Add((process, ProcessWatchdog.Watch(process.Id)));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }
    }
}
