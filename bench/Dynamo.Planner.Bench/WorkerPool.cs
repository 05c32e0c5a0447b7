using System.Diagnostics;
using System.Globalization;
using Dynamo.TestSupport;

namespace Dynamo.Planner.Bench;

/// <summary>
/// Mocker worker processes the bench scales directly: more start at once, fewer stop with SIGTERM (the worker
/// unregisters and drains its in-flight requests, as the AppHost and Kubernetes stop it). Alive processes are
/// integrated over time into worker-seconds, a draining one included until it exits.
/// </summary>
internal sealed class WorkerPool(string workerDll, IReadOnlyDictionary<string, string> environment, string logDirectory) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<(Process Process, ProcessWatchdog Watchdog)> _running = [];
    private readonly List<(Process Process, ProcessWatchdog Watchdog)> _draining = [];
    private int _started;
    private double _workerSeconds;
    private long _lastSample = Stopwatch.GetTimestamp();
    private bool _metering;

    /// <summary>Processes accepting work (draining ones excluded).</summary>
    public int Replicas
    {
        get
        {
            lock (_gate)
            {
                return _running.Count;
            }
        }
    }

    public double WorkerSeconds
    {
        get
        {
            lock (_gate)
            {
                Sample();
                return _workerSeconds;
            }
        }
    }

    /// <summary>Starts counting worker-seconds from now (start-up before the replay does not count).</summary>
    public void StartMetering()
    {
        lock (_gate)
        {
            _lastSample = Stopwatch.GetTimestamp();
            _workerSeconds = 0;
            _metering = true;
        }
    }

    public void StopMetering()
    {
        lock (_gate)
        {
            Sample();
            _metering = false;
        }
    }

    public void ScaleTo(int replicas)
    {
        lock (_gate)
        {
            Sample();
            while (_running.Count < replicas)
            {
                _running.Add(Start());
            }

            while (_running.Count > replicas)
            {
                var newest = _running[^1];
                _running.RemoveAt(_running.Count - 1);
                using var kill = Process.Start("kill", ["-TERM", newest.Process.Id.ToString(CultureInfo.InvariantCulture)]);
                kill?.WaitForExit();
                _draining.Add(newest);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<(Process Process, ProcessWatchdog Watchdog)> all;
        lock (_gate)
        {
            all = [.. _running, .. _draining];
            _running.Clear();
            _draining.Clear();
        }

        foreach (var (process, watchdog) in all)
        {
            watchdog.Dispose();
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }

    private (Process, ProcessWatchdog) Start()
    {
        var index = _started++;
        var port = ChildServices.FreePort();
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(workerDll)! };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec dotnet \"$0\" >\"$1\" 2>&1");
        info.ArgumentList.Add(workerDll);
        info.ArgumentList.Add(Path.Combine(logDirectory, $"worker-{index}.log"));
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["DYNAMO_INSTANCE_ID"] = $"planner-bench-worker-{index}";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {workerDll}.");
        return (process, ProcessWatchdog.Watch(process.Id));
    }

    private void Sample()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var exited in _draining.Where(d => d.Process.HasExited).ToList())
        {
            exited.Watchdog.Dispose();
            _draining.Remove(exited);
        }

        if (_metering)
        {
            _workerSeconds += Stopwatch.GetElapsedTime(_lastSample, now).TotalSeconds * (_running.Count + _draining.Count);
        }

        _lastSample = now;
    }
}
