using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dynamo.AppHost.Orchestration;
using Dynamo.TestSupport;

namespace Dynamo.AppHost.Tests.Infrastructure;

/// <summary>The real AppHost started as its own process (<c>dotnet Dynamo.AppHost.dll</c>), with a private state folder.</summary>
internal sealed class AppHostProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    private readonly Process _process;
    private ProcessWatchdog? _watchdog;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private AppHostProcess(Process process, string stateDirectory)
    {
        _process = process;
        StateDirectory = stateDirectory;
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public string StateDirectory { get; }

    public string EndpointsPath => Path.Combine(StateDirectory, "endpoints.json");

    public HttpClient Http { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static string AppHostAssembly
    {
        get
        {
            // tests/Dynamo.AppHost.Tests/bin/<Configuration>/net10.0/ → the same configuration of the AppHost.
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = output.Parent!.Name;
            return Path.Combine(RepoPaths.Root, "Dynamo.AppHost", "bin", configuration, output.Name, "Dynamo.AppHost.dll");
        }
    }

    public static AppHostProcess Start(params string[] args)
    {
        var state = Path.Combine(Path.GetTempPath(), "dynamo-apphost-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(state);
        var info = new ProcessStartInfo(ProjectBuildRunner.DotnetHost)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = RepoPaths.Root,
        };
        info.ArgumentList.Add(AppHostAssembly);
        foreach (var arg in args.Concat(["--state-dir", state]))
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var host = new AppHostProcess(process, state);
        process.OutputDataReceived += (_, e) => Append(host._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(host._stderr, e.Data);
        process.Start();
        // SIGTERM: an orphaned AppHost stops its own children (which also die with it by pdeathsig).
        host._watchdog = ProcessWatchdog.Watch(process.Id, "TERM");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits until endpoints.json lists every resource as Running (or the AppHost exits, or the timeout passes).</summary>
    public async Task<EndpointsDocument> WaitUntilAllRunningAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? StartTimeout);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The AppHost exited with {_process.ExitCode} before the cluster was up.\n{StandardError}\n{Tail(StandardOutput)}");
            }

            if (ReadEndpoints() is { } document && document.Resources.Count > 0 && document.Resources.Values.All(r => r.State == "Running"))
            {
                return document;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The cluster was not up within {(timeout ?? StartTimeout).TotalSeconds} s.\n{Tail(StandardOutput)}");
    }

    public EndpointsDocument? ReadEndpoints()
    {
        try
        {
            return JsonSerializer.Deserialize<EndpointsDocument>(File.ReadAllText(EndpointsPath), EndpointsFile.JsonOptions);
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }

    public async Task<ResourceSnapshot> GetResourceAsync(string controlUrl, string name)
        => (await Http.GetFromJsonAsync<ResourceSnapshot>($"{controlUrl}/api/resources/{name}", EndpointsFile.JsonOptions))!;

    /// <summary>Polls the control API until <paramref name="condition"/> holds for the resource; bounded.</summary>
    public async Task<ResourceSnapshot> WaitForResourceAsync(string controlUrl, string name, Func<ResourceSnapshot, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        ResourceSnapshot snapshot;
        do
        {
            snapshot = await GetResourceAsync(controlUrl, name);
            if (condition(snapshot))
            {
                return snapshot;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"'{name}' did not reach the expected state; last: {JsonSerializer.Serialize(snapshot)}\n{Tail(StandardOutput)}");
    }

    public void Signal(int signal) => _ = NativeMethods.Kill(_process.Id, signal);

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _watchdog?.Dispose();
        if (!_process.HasExited)
        {
            Signal(NativeMethods.SIGTERM);
            if (!await WaitForExitAsync(TimeSpan.FromSeconds(40)))
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        Http.Dispose();
        try
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (target)
        {
            target.AppendLine(line);
        }
    }

    private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;
}
