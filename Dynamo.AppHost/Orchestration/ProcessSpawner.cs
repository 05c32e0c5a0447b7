using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Dynamo.AppHost.Orchestration;

/// <summary>
/// Starts every child from one dedicated, never-ending thread, wrapped in <c>setpriv --pdeathsig KILL</c>.
/// PR_SET_PDEATHSIG fires when the thread that forked the child exits, and Process.Start forks on the calling
/// thread: a retired thread-pool thread would kill its children. This thread lives as long as the AppHost, so
/// children die exactly when the AppHost dies, even by SIGKILL.
/// Each child also gets its own session (<c>setsid</c>, which execs without forking because the child is not a
/// group leader, so the PID stays the same): a Ctrl+C in the terminal then reaches only the AppHost, which stops
/// dependents before the servers they use, instead of every process racing to exit at once.
/// </summary>
internal sealed partial class ProcessSpawner
{
    private readonly BlockingCollection<SpawnRequest> _requests = new(boundedCapacity: 256);
    private readonly ChildLogWriter _logs;
    private readonly ILogger<ProcessSpawner> _logger;
    private readonly string? _setpriv;
    private readonly string? _setsid;

    public ProcessSpawner(ChildLogWriter logs, ILogger<ProcessSpawner> logger)
    {
        _logs = logs;
        _logger = logger;
        _setpriv = ExecutableLocator.Find("setpriv");
        _setsid = ExecutableLocator.Find("setsid");
        if (_setpriv is null)
        {
            LogNoSetpriv(_logger);
        }

        // Deliberately never joined or ended: see the class comment.
        new Thread(Serve) { IsBackground = true, Name = "Dynamo.AppHost process spawner" }.Start();
    }

    public bool ChildrenDieWithAppHost => _setpriv is not null;

    public Task<Process> StartAsync(LaunchSpec spec, CancellationToken cancellationToken)
    {
        var request = new SpawnRequest(spec, new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_requests.TryAdd(request, Timeout.Infinite, cancellationToken))
        {
            throw new InvalidOperationException("The process spawner no longer accepts requests.");
        }

        return request.Completion.Task.WaitAsync(cancellationToken);
    }

    private void Serve()
    {
        foreach (var request in _requests.GetConsumingEnumerable())
        {
            try
            {
                request.Completion.SetResult(Start(request.Spec));
            }
            catch (Exception ex)
            {
                request.Completion.SetException(ex);
            }
        }
    }

    private Process Start(LaunchSpec spec)
    {
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Children never read the AppHost's terminal.
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = spec.WorkingDirectory,
        };
        var command = new List<string>();
        if (_setpriv is not null)
        {
            command.AddRange([_setpriv, "--pdeathsig", "KILL", "--"]);
        }

        if (_setsid is not null)
        {
            command.AddRange([_setsid, "--"]);
        }

        command.Add(spec.FileName);
        info.FileName = command[0];
        foreach (var arg in command.Skip(1).Concat(spec.Arguments))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in spec.Environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var source = spec.ReplicaName;
        var onOutput = spec.OnOutput ?? ((line, isError) => _logs.Write(source, line, isError));
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onOutput(e.Data, false);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onOutput(e.Data, true);
            }
        };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "setpriv (util-linux) not found: children will outlive the AppHost if it is killed. Install util-linux.")]
    private static partial void LogNoSetpriv(ILogger logger);

    private sealed record SpawnRequest(LaunchSpec Spec, TaskCompletionSource<Process> Completion);
}
