using System.Diagnostics;
using System.Globalization;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;

namespace Dynamo.Planner.Bench;

/// <summary>
/// Mocker worker processes the bench scales directly. A scale-down stops the newest with SIGTERM (the worker
/// unregisters and drains its in-flight requests, as the AppHost and Kubernetes stop it). A scale-up either starts a
/// new process (cold: its runtime start and JIT run on the serving CPU) or, with warm spares, resumes a process that
/// was started, warmed and parked before the replay (stopped with SIGSTOP, its lease removed) after
/// <see cref="StartDelay"/>: the start's latency stays in the figure, its CPU burn on this shared host does not.
/// Worker-seconds integrate the workers that serve or were asked to (from the scale-up decision on, a start delay
/// included) plus draining ones until they exit; parked spares are not counted.
/// </summary>
internal sealed class WorkerPool(
    string workerDll, IReadOnlyDictionary<string, string> environment, string logDirectory, IWorkerRegistry registry) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<Worker> _running = [];
    private readonly List<Worker> _draining = [];
    private readonly Stack<Worker> _spares = new();
    private readonly List<Activation> _activations = [];
    private readonly long _origin = Stopwatch.GetTimestamp();
    private int _started;
    private double _workerSeconds;
    private long _lastSample = Stopwatch.GetTimestamp();
    private bool _metering;

    /// <summary>Decision → resume of a warm spare (a cluster's pod start, which runs on its own node there).</summary>
    public TimeSpan StartDelay { get; set; }

    /// <summary>Workers serving or starting (draining ones excluded).</summary>
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

    public int Spares
    {
        get
        {
            lock (_gate)
            {
                return _spares.Count;
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

    /// <summary>Every scale-up: when it was asked for and when the new worker was first seen registered (seconds since the pool's creation).</summary>
    public IReadOnlyList<Activation> Activations
    {
        get
        {
            lock (_gate)
            {
                return [.. _activations];
            }
        }
    }

    public double Now => Stopwatch.GetElapsedTime(_origin).TotalSeconds;

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

    /// <summary>Starts one worker process now and waits until it is registered: the cold start as the router sees it.</summary>
    public async Task<TimeSpan> StartColdAndWaitAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        Worker worker;
        lock (_gate)
        {
            worker = StartProcess();
            _running.Add(worker);
        }

        await WaitRegisteredAsync([worker.Id], cancellationToken);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// Starts <paramref name="count"/> spare workers, waits for their registration, has each serve
    /// <paramref name="warm"/> (JIT, connections) and parks it: SIGSTOP first, so its lease keeper cannot renew, then
    /// its registry lease is removed, so routers stop seeing it. Call before the router starts.
    /// </summary>
    public async Task PrepareSparesAsync(int count, Func<Uri, CancellationToken, Task> warm, CancellationToken cancellationToken)
    {
        var spares = new List<Worker>(count);
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                spares.Add(StartProcess());
            }
        }

        await WaitRegisteredAsync([.. spares.Select(s => s.Id)], cancellationToken);
        foreach (var spare in spares)
        {
            await warm(spare.Url, cancellationToken);
            Signal(spare, "STOP");
            await registry.UnregisterAsync(spare.Id, cancellationToken);
            lock (_gate)
            {
                _spares.Push(spare);
            }
        }
    }

    public void ScaleTo(int replicas)
    {
        lock (_gate)
        {
            Sample();
            while (_running.Count < replicas)
            {
                _running.Add(ScaleUpOne());
            }

            while (_running.Count > replicas)
            {
                var newest = _running[^1];
                _running.RemoveAt(_running.Count - 1);
                if (newest.Pending is { } pending)
                {
                    // Asked for and taken back before it resumed: it never served, so it goes back to the spares.
                    pending.Cancel();
                    newest.Pending = null;
                    _activations.RemoveAll(a => a.WorkerId == newest.Id && a.ServingAt is null);
                    _spares.Push(newest);
                    continue;
                }

                Signal(newest, "TERM");
                _draining.Add(newest);
            }
        }
    }

    /// <summary>Marks scale-ups whose worker is now registered (call periodically).</summary>
    public async Task ObserveServingAsync(CancellationToken cancellationToken)
    {
        if (!Activations.Any(a => a.ServingAt is null))
        {
            return;
        }

        var listing = await registry.ListAsync(cancellationToken);
        var now = Now;
        var ids = listing.Workers.Select(w => w.WorkerId).ToHashSet(StringComparer.Ordinal);
        lock (_gate)
        {
            for (var i = 0; i < _activations.Count; i++)
            {
                if (_activations[i].ServingAt is null && ids.Contains(_activations[i].WorkerId))
                {
                    _activations[i] = _activations[i] with { ServingAt = now };
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Worker> all;
        lock (_gate)
        {
            all = [.. _running, .. _draining, .. _spares];
            _running.Clear();
            _draining.Clear();
            _spares.Clear();
        }

        foreach (var worker in all)
        {
            worker.Pending?.Cancel();
            worker.Watchdog.Dispose();
            if (!worker.Process.HasExited)
            {
                // SIGKILL also ends a stopped (parked) process.
                worker.Process.Kill(entireProcessTree: true);
                await worker.Process.WaitForExitAsync();
            }

            worker.Process.Dispose();
        }
    }

    private Worker ScaleUpOne()
    {
        if (!_spares.TryPop(out var spare))
        {
            var cold = StartProcess();
            _activations.Add(new Activation(cold.Id, Now, null, Warm: false));
            return cold;
        }

        _activations.Add(new Activation(spare.Id, Now, null, Warm: true));
        var pending = new CancellationTokenSource();
        spare.Pending = pending;
        _ = ResumeAfterDelayAsync(spare, pending);
        return spare;
    }

    private async Task ResumeAfterDelayAsync(Worker spare, CancellationTokenSource pending)
    {
        // Disposed when this ends; by then no worker refers to it any more (both paths clear Pending under the lock).
        using var owned = pending;
        try
        {
            await Task.Delay(StartDelay, pending.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        lock (_gate)
        {
            if (!ReferenceEquals(spare.Pending, pending))
            {
                return;
            }

            // Its lease keeper's overdue heartbeat finds the lease gone and registers it again at once.
            spare.Pending = null;
            Signal(spare, "CONT");
        }
    }

    private async Task WaitRegisteredAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        while (true)
        {
            var listing = await registry.ListAsync(cancellationToken);
            if (ids.All(id => listing.Workers.Any(w => w.WorkerId == id)))
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static void Signal(Worker worker, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", worker.Process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill?.WaitForExit();
    }

    private Worker StartProcess()
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

        var id = $"planner-bench-worker-{index}";
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["DYNAMO_INSTANCE_ID"] = id;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {workerDll}.");
        return new Worker(id, new Uri($"http://127.0.0.1:{port}"), process, ProcessWatchdog.Watch(process.Id));
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

    /// <summary>One scale-up: asked for at <paramref name="AskedAt"/>, registered at <paramref name="ServingAt"/> (pool seconds).</summary>
    internal sealed record Activation(string WorkerId, double AskedAt, double? ServingAt, bool Warm);

    private sealed class Worker(string id, Uri url, Process process, ProcessWatchdog watchdog)
    {
        public string Id { get; } = id;

        public Uri Url { get; } = url;

        public Process Process { get; } = process;

        public ProcessWatchdog Watchdog { get; } = watchdog;

        /// <summary>Set while a parked spare waits out the start delay before it resumes.</summary>
        public CancellationTokenSource? Pending { get; set; }
    }
}
