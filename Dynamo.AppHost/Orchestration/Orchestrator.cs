using System.Diagnostics;
using Dynamo.AppHost.Control;
using Dynamo.AppHost.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamo.AppHost.Orchestration;

/// <summary>
/// Runs the topology: one build, then every resource started as soon as what it waits for is healthy
/// (so independent resources start in parallel), URLs printed and written to endpoints.json.
/// On stop, dependents stop before the servers they use.
/// </summary>
internal sealed partial class Orchestrator(
    DistributedApplicationModel model,
    OrchestrationServices services,
    ProjectBuildRunner builder,
    RunContext run,
    ControlEndpoint control,
    EndpointsFile endpoints,
    ExitCodeHolder exitCode,
    ChildLogWriter logs,
    IHostApplicationLifetime lifetime) : BackgroundService
{
    private readonly Dictionary<string, ResourceRuntime> _runtimes = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _writeGate = new();
    private volatile bool _planned;
    private volatile bool _stopping;

    public IReadOnlyList<ResourceSnapshot> GetSnapshots()
        => _planned ? [.. model.Resources.Select(r => _runtimes[r.Name].Snapshot())] : [];

    public ResourceSnapshot? GetSnapshot(string name)
        => _planned && _runtimes.TryGetValue(name, out var runtime) ? runtime.Snapshot() : null;

    public ControlResult Scale(string name, int replicas)
    {
        if (Find(name, out var runtime) is { } problem)
        {
            return problem;
        }

        if (runtime.Resource is not ProjectResource)
        {
            return ControlResult.NotScalable;
        }

        if (replicas is < 0 or > ResourceBuilderExtensions.MaxReplicas)
        {
            return ControlResult.InvalidReplicas;
        }

        LogScaling(services.Logger, name, replicas);
        _ = runtime.ScaleAsync(replicas);
        return ControlResult.Accepted;
    }

    public ControlResult RestartReplica(string name, int index)
    {
        if (Find(name, out var runtime) is { } problem)
        {
            return problem;
        }

        return runtime.RequestRestart(index) ? ControlResult.Accepted : ControlResult.NotFound;
    }

    /// <summary>
    /// Stops one replica of a project gracefully (SIGTERM, then SIGKILL after the grace period) and lowers the desired
    /// count by one, so it is not restarted; the other replicas keep their indexes and keep serving.
    /// </summary>
    public ControlResult DrainReplica(string name, int index)
    {
        if (Find(name, out var runtime) is { } problem)
        {
            return problem;
        }

        if (runtime.Resource is not ProjectResource)
        {
            return ControlResult.NotScalable;
        }

        if (runtime.Drain(index) is null)
        {
            return ControlResult.NotFound;
        }

        LogDraining(services.Logger, name, index, runtime.Replicas.Count);
        return ControlResult.Accepted;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (!_planned)
        {
            return;
        }

        LogStopping(services.Logger, _runtimes.Count, services.Options.GracePeriodSeconds);
        var projects = _runtimes.Values.Where(r => r.Resource is ProjectResource).ToList();
        await Task.WhenAll(projects.Select(r => r.StopAsync())).ConfigureAwait(false);
        await Task.WhenAll(_runtimes.Values.Except(projects).Select(r => r.StopAsync())).ConfigureAwait(false);
        endpoints.Delete();
        LogStopped(services.Logger);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var startedAt = Stopwatch.GetTimestamp();
        var options = services.Options;
        try
        {
            run.Prepare();
            var projects = model.Projects.ToList();
            if (!options.NoBuild)
            {
                LogBuilding(services.Logger, projects.Count, options.Configuration);
                if (await builder.BuildAsync(projects, options.Configuration, stoppingToken).ConfigureAwait(false) is { } buildError)
                {
                    Fatal(ExitCodes.BuildFailed, buildError);
                    return;
                }
            }

            var targets = new Dictionary<ProjectResource, string>();
            foreach (var project in projects)
            {
                var path = await builder.ResolveTargetPathAsync(project, options.Configuration, stoppingToken).ConfigureAwait(false);
                if (!File.Exists(path))
                {
                    Fatal(ExitCodes.BuildFailed, $"project '{project.Name}' has no build output at '{path}'; build it, or run without --no-build.");
                    return;
                }

                targets[project] = path;
            }

            Plan(targets);
            await Task.WhenAll(_runtimes.Values.Select(r => StartResourceAsync(r, stoppingToken))).ConfigureAwait(false);
            PrintSummary(Stopwatch.GetElapsedTime(startedAt));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidOperationException or UnauthorizedAccessException)
        {
            Fatal(ExitCodes.OrchestrationFailed, ex.Message);
        }
    }

    private void Plan(Dictionary<ProjectResource, string> targets)
    {
        var options = services.Options;
        var maxName = model.Resources.Max(r => r.Name.Length) + 3;
        var addresses = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var resource in model.Resources)
        {
            ResourceRuntime runtime;
            if (resource is ProjectResource project)
            {
                var target = targets[project];
                var workingDirectory = Path.GetDirectoryName(project.Metadata.ProjectPath) ?? run.RepositoryRoot;
                ResourceRuntime? self = null;
                var proxy = new TcpLoadBalancer(project.Name, 0, () => self!.RunningPorts(), services.Time, services.Logger);
                runtime = self = new ResourceRuntime(resource, proxy.Port, index => new ReplicaRuntime(
                    project.Name, index, PortAllocator.GetFreePort(), ReadinessProbe.HttpHealth,
                    (port, instanceId) => new LaunchSpec(
                        $"{project.Name}-{index}",
                        ProjectBuildRunner.DotnetHost,
                        [target],
                        LaunchEnvironment.ForProject(project, index, port, instanceId, addresses, control.Url, options)
                            .WithDevelopmentKeys(project, run.AdminKey, run.DevelopmentApiKey)
                            .WithDevelopmentAdminCredentials(project, run.AdminPassword, run.AdminKey),
                        workingDirectory),
                    services,
                    OnStateChanged), OnStateChanged)
                {
                    Proxy = proxy,
                };
                proxy.Start();
            }
            else if (resource is ExecutableResource executable)
            {
                var path = ExecutableLocator.Resolve(executable, options)
                    ?? throw new InvalidOperationException(ExecutableLocator.DescribeMissing(executable, options));
                var port = PortAllocator.GetFreePort();
                runtime = new ResourceRuntime(resource, port, index => new ReplicaRuntime(
                    executable.Name, index, port, executable.Probe,
                    (p, _) =>
                    {
                        var data = run.DataDirectory($"{executable.Name}-{index}");
                        return new LaunchSpec($"{executable.Name}-{index}", path, executable.LocalArguments(p, data), new Dictionary<string, string>(), data);
                    },
                    services,
                    OnStateChanged), OnStateChanged);
            }
            else
            {
                throw new InvalidOperationException($"Resource '{resource.Name}' of type {resource.GetType().Name} cannot be run locally.");
            }

            _runtimes[resource.Name] = runtime;
            addresses[resource.Name] = runtime.ServiceAddress;
        }

        logs.PrefixWidth = maxName;
        _planned = true;
        OnStateChanged();
    }

    private async Task StartResourceAsync(ResourceRuntime runtime, CancellationToken cancellationToken)
    {
        foreach (var dependency in DistributedApplicationModel.WaitsOf(runtime.Resource))
        {
            LogWaiting(services.Logger, runtime.Name, dependency.Name);
            await _runtimes[dependency.Name].Healthy.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        var replicas = runtime.Resource is ProjectResource project ? project.Replicas : 1;
        await runtime.ScaleAsync(replicas).ConfigureAwait(false);
        await Task.WhenAll(runtime.Replicas.Select(r => r.FirstReady.Task)).WaitAsync(cancellationToken).ConfigureAwait(false);
        runtime.Healthy.TrySetResult();
        LogHealthy(services.Logger, runtime.Name, runtime.Snapshot().Urls[0]);
    }

    private ControlResult? Find(string name, out ResourceRuntime runtime)
    {
        runtime = null!;
        if (!_planned || _stopping)
        {
            return ControlResult.NotRunning;
        }

        if (!_runtimes.TryGetValue(name, out var found))
        {
            return ControlResult.NotFound;
        }

        runtime = found;
        return runtime.Healthy.Task.IsCompleted ? null : ControlResult.NotRunning;
    }

    private void OnStateChanged()
    {
        if (!_planned || _stopping)
        {
            return;
        }

        lock (_writeGate)
        {
            endpoints.Write(new EndpointsDocument(
                run.RunId,
                Environment.ProcessId,
                control.Url,
                run.StartedAt,
                GetSnapshots().ToDictionary(s => s.Name, StringComparer.Ordinal),
                HasDevelopmentApiKey ? run.DevelopmentApiKey : null)
            {
                Admin = HasAdminCredentials ? new AdminCredentials(RunContext.AdminUsername, run.AdminPassword) : null,
            });
        }
    }

    private bool HasAdminCredentials => model.Resources.Any(r => r.Annotations.OfType<DevelopmentAdminCredentialsAnnotation>().Any());

    private bool HasDevelopmentApiKey => model.Resources.Any(r => r.Annotations.OfType<DevelopmentApiKeyAnnotation>().Any());

    private void PrintSummary(TimeSpan elapsed)
    {
        var lines = new List<string>
        {
            $"Dynamo cluster ready in {elapsed.TotalSeconds:0.0} s. Control API {control.Url}/api/resources, endpoints in {endpoints.Path}",
        };
        foreach (var snapshot in GetSnapshots())
        {
            var replicas = snapshot.Type == "project" ? $"  (replicas: {string.Join(", ", snapshot.Urls.Skip(1))})" : "";
            lines.Add($"  {snapshot.Name,-10} {snapshot.Urls[0]}{replicas}");
        }

        if (HasDevelopmentApiKey)
        {
            lines.Add($"  API key    {run.DevelopmentApiKey}  (Authorization: Bearer …; also apiKey in endpoints.json)");
        }

        if (HasAdminCredentials)
        {
            lines.Add($"  Admin      sign in as {RunContext.AdminUsername} / {run.AdminPassword}  (also admin in endpoints.json)");
        }

        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
    }

    private void Fatal(int code, string message)
    {
        Console.Error.WriteLine($"Dynamo.AppHost: error: {message}");
        exitCode.Fail(code);
        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Building {Count} projects ({Configuration})")]
    private static partial void LogBuilding(ILogger logger, int count, string configuration);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Resource} waits for {Dependency}")]
    private static partial void LogWaiting(ILogger logger, string resource, string dependency);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Resource} is healthy at {Url}")]
    private static partial void LogHealthy(ILogger logger, string resource, string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scaling {Resource} to {Replicas} replicas")]
    private static partial void LogScaling(ILogger logger, string resource, int replicas);

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining {Resource} replica {Index}; {Replicas} replicas remain")]
    private static partial void LogDraining(ILogger logger, string resource, int index, int replicas);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping {Count} resources (grace period {GraceSeconds} s)")]
    private static partial void LogStopping(ILogger logger, int count, int graceSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "All children stopped")]
    private static partial void LogStopped(ILogger logger);
}
