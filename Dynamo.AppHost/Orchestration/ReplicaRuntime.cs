using System.Diagnostics;
using Dynamo.AppHost.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamo.AppHost.Orchestration;

/// <summary>
/// Supervises one replica: start, wait until ready, watch; on a crash restart it after an exponential back-off;
/// on stop send SIGTERM, then SIGKILL after the grace period. The port stays the same across restarts, so
/// connection strings handed to dependents stay valid.
/// </summary>
internal sealed partial class ReplicaRuntime
{
    private readonly Func<int, string, LaunchSpec> _launch;
    private readonly ReadinessProbe _probe;
    private readonly OrchestrationServices _services;
    private readonly Action _onStateChanged;
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _restartRequest = NewSignal();
    private volatile Process? _process;
    private Task _loop = Task.CompletedTask;
    private int _restarts;

    public ReplicaRuntime(string resourceName, int index, int port, ReadinessProbe probe, Func<int, string, LaunchSpec> launch, OrchestrationServices services, Action onStateChanged)
    {
        ResourceName = resourceName;
        Index = index;
        Port = port;
        _probe = probe;
        _launch = launch;
        _services = services;
        _onStateChanged = onStateChanged;
    }

    public string ResourceName { get; }

    public int Index { get; }

    public int Port { get; }

    public string Name => $"{ResourceName}-{Index}";

    public ReplicaState State { get; private set; } = ReplicaState.Waiting;

    public string? InstanceId { get; private set; }

    /// <summary>Completes the first time the replica is ready.</summary>
    public TaskCompletionSource FirstReady { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ReplicaSnapshot Snapshot(string url)
    {
        var process = _process;
        int? pid = process is not null && !ProcessStopper.HasExited(process) ? process.Id : null;
        return new ReplicaSnapshot(Index, Name, State.ToString(), url, pid, Volatile.Read(ref _restarts), InstanceId);
    }

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Gracefully stops the current process and starts a fresh one right away (no back-off).</summary>
    public void RequestRestart() => _restartRequest.TrySetResult();

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var options = _services.Options;
        var backoff = new RestartBackoff(
            TimeSpan.FromMilliseconds(options.RestartBaseDelayMilliseconds),
            TimeSpan.FromSeconds(options.RestartMaxDelaySeconds));
        var grace = TimeSpan.FromSeconds(options.GracePeriodSeconds);
        var crashes = 0;
        while (!stopping.IsCancellationRequested)
        {
            SetState(ReplicaState.Starting);
            InstanceId = $"{Name}-{Guid.NewGuid().ToString("N")[..8]}";
            Process process;
            try
            {
                process = await _services.Spawner.StartAsync(_launch(Port, InstanceId), stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
            {
                LogStartFailed(_services.Logger, Name, ex.Message);
                if (!await DelayRestartAsync(backoff.GetDelay(crashes++), stopping).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            _process = process;
            var restart = _restartRequest = NewSignal();
            var startedAt = _services.Time.GetUtcNow();
            var exited = process.WaitForExitAsync(CancellationToken.None);
            LogStarted(_services.Logger, Name, process.Id, Port);
            _onStateChanged();

            var outcome = await WaitReadyAsync(exited, stopping).ConfigureAwait(false);
            if (outcome == ReadinessProber.Outcome.Ready)
            {
                SetState(ReplicaState.Running);
                FirstReady.TrySetResult();
            }
            else if (outcome == ReadinessProber.Outcome.TimedOut)
            {
                LogNotReady(_services.Logger, Name, options.HealthTimeoutSeconds);
                await ProcessStopper.StopAsync(process, grace, _services.Time).ConfigureAwait(false);
            }

            var stopSignal = Task.Delay(Timeout.Infinite, stopping);
            var woke = await Task.WhenAny(exited, restart.Task, stopSignal).ConfigureAwait(false);
            if (woke != exited)
            {
                SetState(ReplicaState.Stopping);
                await ProcessStopper.StopAsync(process, grace, _services.Time).ConfigureAwait(false);
                process.Dispose();
                _process = null;
                if (woke == restart.Task)
                {
                    Interlocked.Increment(ref _restarts);
                    crashes = 0;
                    continue;
                }

                break;
            }

            var exitCode = process.ExitCode;
            process.Dispose();
            _process = null;
            if (stopping.IsCancellationRequested)
            {
                break;
            }

            // A Ctrl+C in the terminal reaches the children too; that exit is a stop, not a crash.
            if (RestartBackoff.IsStable(_services.Time.GetUtcNow() - startedAt))
            {
                crashes = 0;
            }

            var delay = backoff.GetDelay(crashes++);
            Interlocked.Increment(ref _restarts);
            LogCrashed(_services.Logger, Name, exitCode, delay.TotalSeconds);
            SetState(ReplicaState.Restarting);
            if (!await DelayRestartAsync(delay, stopping).ConfigureAwait(false))
            {
                break;
            }
        }

        SetState(ReplicaState.Stopped);
    }

    private async Task<ReadinessProber.Outcome> WaitReadyAsync(Task exited, CancellationToken stopping)
    {
        try
        {
            return await _services.Prober.WaitReadyAsync(
                _probe, Port, exited, TimeSpan.FromSeconds(_services.Options.HealthTimeoutSeconds), stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return ReadinessProber.Outcome.Exited;
        }
    }

    private async Task<bool> DelayRestartAsync(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, _services.Time, stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void SetState(ReplicaState state)
    {
        if (State != state)
        {
            State = state;
            _onStateChanged();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Replica} started (pid {Pid}, port {Port})")]
    private static partial void LogStarted(ILogger logger, string replica, int pid, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Replica} exited with code {ExitCode}; restarting in {DelaySeconds:0.###} s")]
    private static partial void LogCrashed(ILogger logger, string replica, int exitCode, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Replica} could not be started: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string replica, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Replica} was not healthy within {Seconds} s; restarting it")]
    private static partial void LogNotReady(ILogger logger, string replica, int seconds);
}
