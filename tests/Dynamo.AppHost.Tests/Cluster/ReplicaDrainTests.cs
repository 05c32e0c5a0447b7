using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.AppHost.Tests.Infrastructure;

namespace Dynamo.AppHost.Tests.Cluster;

/// <summary><c>POST /api/resources/{name}/replicas/{index}/drain</c> against real worker processes.</summary>
public sealed class ReplicaDrainTests(DrainClusterFixture cluster) : IClassFixture<DrainClusterFixture>
{
    [Fact]
    public async Task Drain_MiddleReplicaWithStreamInFlight_StreamCompletesOthersServeAndIndexesStay()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var before = await cluster.WaitForAsync(r => r.Replicas.Count == DrainClusterFixture.Replicas && r.Replicas.All(x => x.State == "Running"));
        var drained = before.Replicas.Single(r => r.Index == 1);
        var kept = before.Replicas.Where(r => r.Index != 1).ToList();

        // ~1,500 mocker decode steps of several ms each: the stream outlives everything checked during the drain.
        const int MaxTokens = 1500;
        using var stream = await cluster.GenerateAsync(drained.Url, MaxTokens, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(timeout.Token));
        Assert.NotNull(await DrainClusterFixture.ReadEventAsync(reader, timeout.Token));

        using var accepted = await cluster.Http.PostAsync($"{cluster.ControlUrl}/api/resources/worker/replicas/1/drain", null, timeout.Token);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        // At once: one replica fewer is desired, the drained one is on its way out and refuses new work.
        var draining = await cluster.GetAsync();
        Assert.Equal(DrainClusterFixture.Replicas - 1, draining.DesiredReplicas);
        var (status, refusedBody) = await RefusalAsync(drained.Url, timeout.Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("draining", refusedBody, StringComparison.Ordinal);

        foreach (var replica in kept)
        {
            using var served = await cluster.GenerateAsync(replica.Url, 4, timeout.Token);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Contains("\"finish_reason\":\"length\"", await served.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
        }

        var events = 1;
        JsonElement? last = null;
        while (await DrainClusterFixture.ReadEventAsync(reader, timeout.Token) is { } next)
        {
            events++;
            last = next;
        }

        Assert.Equal(MaxTokens, events);
        Assert.Equal("length", last?.GetProperty("finish_reason").GetString());

        var after = await cluster.WaitForAsync(r => r.Replicas.Count == DrainClusterFixture.Replicas - 1);
        Assert.Equal([0, 2], after.Replicas.Select(r => r.Index));
        Assert.Equal(kept.Select(r => r.Pid), after.Replicas.Select(r => r.Pid));
        Assert.Equal(kept.Select(r => r.InstanceId), after.Replicas.Select(r => r.InstanceId));
        Assert.Equal("Running", after.State);
        Assert.True(await ProcessProbe.WaitAllDeadAsync([drained.Pid!.Value], TimeSpan.FromSeconds(30)), "the drained replica still runs");

        // Scaling back up fills the gap: the new replica takes index 1, and nobody else is renumbered.
        using var scaled = await cluster.Http.PostAsJsonAsync($"{cluster.ControlUrl}/api/resources/worker/scale", new { replicas = 3 }, timeout.Token);
        Assert.Equal(HttpStatusCode.Accepted, scaled.StatusCode);
        var refilled = await cluster.WaitForAsync(r => r.Replicas.Count == 3 && r.Replicas.All(x => x.State == "Running"));
        Assert.Equal([0, 1, 2], refilled.Replicas.Select(r => r.Index));
        Assert.Equal(kept.Select(r => r.Pid), refilled.Replicas.Where(r => r.Index != 1).Select(r => r.Pid));
        var fresh = refilled.Replicas.Single(r => r.Index == 1);
        Assert.NotEqual(drained.Pid, fresh.Pid);
        Assert.StartsWith("worker-1-", fresh.InstanceId, StringComparison.Ordinal);
        Assert.Equal("1", ProcessProbe.Environment(fresh.Pid!.Value)["DYNAMO_REPLICA_INDEX"]);
    }

    [Theory]
    [InlineData("worker", 7, HttpStatusCode.NotFound, "No replica 7")]
    [InlineData("nats", 0, HttpStatusCode.BadRequest, "only projects")]
    [InlineData("nope", 0, HttpStatusCode.NotFound, "No resource named 'nope'")]
    public async Task Drain_BadTarget_RefusedWithReasonAndNothingStops(string resource, int index, HttpStatusCode expected, string reason)
    {
        var before = await cluster.GetAsync("nats");

        using var response = await cluster.Http.PostAsync($"{cluster.ControlUrl}/api/resources/{resource}/replicas/{index}/drain", null);

        Assert.Equal(expected, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var after = await cluster.GetAsync("nats");
        Assert.Equal(before.Pids, after.Pids);
        Assert.Equal(1, after.DesiredReplicas);
    }

    /// <summary>SIGTERM reaches the worker a moment after the 202; until then it still serves, so ask until it refuses.</summary>
    private async Task<(HttpStatusCode Status, string Body)> RefusalAsync(string url, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await cluster.GenerateAsync(url, 2, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK || attempt == 200)
            {
                return (response.StatusCode, body);
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
