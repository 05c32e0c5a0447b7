using Dynamo.Admin.Live;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Dynamo.Admin.Hubs;

/// <summary>
/// <c>/hubs/metrics</c>: every connected client receives <see cref="SnapshotMethod"/> with an <see cref="AdminSnapshot"/>
/// about once a second (sent by <see cref="ClusterFeed"/>), and the current one right after connecting.
/// </summary>
[Authorize]
public sealed class MetricsHub(ClusterState state) : Hub
{
    public const string Path = "/hubs/metrics";

    public const string SnapshotMethod = "snapshot";

    public override async Task OnConnectedAsync()
    {
        await Clients.Caller.SendAsync(SnapshotMethod, state.Current, Context.ConnectionAborted);
        await base.OnConnectedAsync();
    }

    /// <summary>The latest snapshot on demand (a client that just reconnected need not wait for the next tick).</summary>
    public AdminSnapshot GetSnapshot() => state.Current;
}
