using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Orchestration;

/// <summary>The running side of one resource: its replicas and, for a project, the proxy in front of them.</summary>
internal sealed class ResourceRuntime
{
    private readonly Lock _gate = new();
    // Desired replicas, ordered by index; a replica's index is its identity (DYNAMO_REPLICA_INDEX, the instance id
    // the Admin maps back to it), so draining one never renumbers the others.
    private readonly List<ReplicaRuntime> _replicas = [];

    // Replicas taken out (scale-down, drain) that have not exited yet: shown as Stopping, never restarted.
    private readonly List<ReplicaRuntime> _leaving = [];
    private readonly Func<int, ReplicaRuntime> _createReplica;
    private readonly Action _onLeft;

    /// <param name="onLeft">Called when replicas taken out have exited and left the snapshot.</param>
    public ResourceRuntime(IResource resource, int servicePort, Func<int, ReplicaRuntime> createReplica, Action? onLeft = null)
    {
        Resource = resource;
        ServicePort = servicePort;
        _createReplica = createReplica;
        _onLeft = onLeft ?? (() => { });
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

    /// <summary>The desired replicas, by index.</summary>
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

    /// <summary>The desired replicas and those still stopping, by index.</summary>
    private IReadOnlyList<ReplicaRuntime> AllReplicas
    {
        get
        {
            lock (_gate)
            {
                return [.. _replicas.Concat(_leaving).OrderBy(r => r.Index)];
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

    /// <summary>
    /// Adds replicas up to <paramref name="count"/> (each takes the lowest free index) or stops the highest-numbered
    /// ones; returns when stopped ones have exited.
    /// </summary>
    public async Task ScaleAsync(int count)
    {
        List<ReplicaRuntime> removed;
        lock (_gate)
        {
            while (_replicas.Count < count)
            {
                var replica = _createReplica(LowestFreeIndex());
                InsertByIndex(replica);
                replica.Start();
            }

            removed = _replicas.Count > count ? _replicas[count..] : [];
            _replicas.RemoveRange(count, _replicas.Count - count);
            _leaving.AddRange(removed);
        }

        await StopLeavingAsync(removed).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes replica <paramref name="index"/> out of the desired set (the proxy stops sending it connections, it is
    /// never restarted) and stops it gracefully; the other replicas keep their indexes. Null when there is no such
    /// replica, else a task that completes once it has exited.
    /// </summary>
    public Task? Drain(int index)
    {
        ReplicaRuntime replica;
        lock (_gate)
        {
            var position = _replicas.FindIndex(r => r.Index == index);
            if (position < 0)
            {
                return null;
            }

            replica = _replicas[position];
            _replicas.RemoveAt(position);
            _leaving.Add(replica);
        }

        return StopLeavingAsync([replica]);
    }

    public bool RequestRestart(int index)
    {
        lock (_gate)
        {
            if (_replicas.Find(r => r.Index == index) is not { } replica)
            {
                return false;
            }

            replica.RequestRestart();
            return true;
        }
    }

    public async Task StopAsync()
    {
        await ScaleAsync(0).ConfigureAwait(false);
        List<ReplicaRuntime> leaving;
        lock (_gate)
        {
            leaving = [.. _leaving];
        }

        // Replicas drained earlier may still be finishing their requests; the AppHost does not exit before they do.
        await Task.WhenAll(leaving.Select(r => r.StopAsync())).ConfigureAwait(false);
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync().ConfigureAwait(false);
        }
    }

    public ResourceSnapshot Snapshot()
    {
        var desired = Replicas.Count;
        var replicas = AllReplicas;
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
            replicaSnapshots)
        {
            DesiredReplicas = desired,
        };
    }

    /// <summary>Indexes stay unique among running and stopping replicas, so a new one never shares a name or data directory.</summary>
    private int LowestFreeIndex()
    {
        var index = 0;
        while (_replicas.Exists(r => r.Index == index) || _leaving.Exists(r => r.Index == index))
        {
            index++;
        }

        return index;
    }

    private void InsertByIndex(ReplicaRuntime replica)
    {
        var position = _replicas.FindIndex(r => r.Index > replica.Index);
        _replicas.Insert(position < 0 ? _replicas.Count : position, replica);
    }

    private async Task StopLeavingAsync(IReadOnlyList<ReplicaRuntime> leaving)
    {
        if (leaving.Count == 0)
        {
            return;
        }

        await Task.WhenAll(leaving.Select(r => r.StopAsync())).ConfigureAwait(false);
        lock (_gate)
        {
            _leaving.RemoveAll(leaving.Contains);
        }

        _onLeft();
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
