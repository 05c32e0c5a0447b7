using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Orchestration;

/// <summary>The running side of one resource: its replicas and, for a project, the proxy in front of them.</summary>
internal sealed class ResourceRuntime
{
    private readonly Lock _gate = new();
    private readonly List<ReplicaRuntime> _replicas = [];
    private readonly Func<int, ReplicaRuntime> _createReplica;

    public ResourceRuntime(IResource resource, int servicePort, Func<int, ReplicaRuntime> createReplica)
    {
        Resource = resource;
        ServicePort = servicePort;
        _createReplica = createReplica;
    }

    public IResource Resource { get; }

    public string Name => Resource.Name;

    /// <summary>The port dependents use: the proxy's for a project, the server's for an executable.</summary>
    public int ServicePort { get; }

    public TcpLoadBalancer? Proxy { get; init; }

    /// <summary>Completes once the initial replicas have all been ready once; WaitFor waits on it.</summary>
    public TaskCompletionSource Healthy { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string ServiceAddress => Resource is IResourceWithConnectionString withConnectionString
        ? withConnectionString.GetLocalConnectionString(ServicePort)
        : $"http://127.0.0.1:{ServicePort}";

    public IReadOnlyList<ReplicaRuntime> Replicas
    {
        get
        {
            lock (_gate)
            {
                return [.. _replicas];
            }
        }
    }

    public IReadOnlyList<int> RunningPorts()
    {
        lock (_gate)
        {
            return [.. _replicas.Where(r => r.State == ReplicaState.Running).Select(r => r.Port)];
        }
    }

    /// <summary>Adds replicas up to <paramref name="count"/> or stops the highest-numbered ones; returns when stopped ones have exited.</summary>
    public async Task ScaleAsync(int count)
    {
        List<ReplicaRuntime> removed;
        lock (_gate)
        {
            while (_replicas.Count < count)
            {
                var replica = _createReplica(_replicas.Count);
                _replicas.Add(replica);
                replica.Start();
            }

            removed = _replicas.Count > count ? _replicas[count..] : [];
            _replicas.RemoveRange(count, _replicas.Count - count);
        }

        await Task.WhenAll(removed.Select(r => r.StopAsync())).ConfigureAwait(false);
    }

    public bool RequestRestart(int index)
    {
        lock (_gate)
        {
            if (index < 0 || index >= _replicas.Count)
            {
                return false;
            }

            _replicas[index].RequestRestart();
            return true;
        }
    }

    public async Task StopAsync()
    {
        await ScaleAsync(0).ConfigureAwait(false);
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync().ConfigureAwait(false);
        }
    }

    public ResourceSnapshot Snapshot()
    {
        var replicas = Replicas;
        var isProject = Resource is ProjectResource;
        var replicaSnapshots = replicas.Select(r => r.Snapshot(ReplicaUrl(r.Port))).ToList();
        var urls = new List<string> { ReplicaUrl(ServicePort) };
        if (isProject)
        {
            urls.AddRange(replicaSnapshots.Select(r => r.Url));
        }

        return new ResourceSnapshot(
            Name,
            Resource switch
            {
                ProjectResource => "project",
                NatsResource => "nats",
                RedisResource => "redis",
                _ => "executable",
            },
            AggregateState(replicas).ToString(),
            urls,
            (Resource as IResourceWithConnectionString)?.GetLocalConnectionString(ServicePort),
            [.. replicaSnapshots.Where(r => r.Pid is not null).Select(r => r.Pid!.Value)],
            replicaSnapshots);
    }

    private string ReplicaUrl(int port) => Resource switch
    {
        ProjectResource => $"http://127.0.0.1:{port}",
        NatsResource => $"nats://127.0.0.1:{port}",
        RedisResource => $"redis://127.0.0.1:{port}",
        _ => $"tcp://127.0.0.1:{port}",
    };

    /// <summary>Running when every replica runs; otherwise the least advanced replica's state tells what is going on.</summary>
    private static ReplicaState AggregateState(IReadOnlyList<ReplicaRuntime> replicas)
    {
        if (replicas.Count == 0)
        {
            return ReplicaState.Stopped;
        }

        var states = replicas.Select(r => r.State).ToList();
        if (states.All(s => s == ReplicaState.Running))
        {
            return ReplicaState.Running;
        }

        foreach (var candidate in new[] { ReplicaState.Restarting, ReplicaState.Starting, ReplicaState.Stopping, ReplicaState.Waiting })
        {
            if (states.Contains(candidate))
            {
                return candidate;
            }
        }

        return ReplicaState.Stopped;
    }
}
