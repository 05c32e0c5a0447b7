using System.Text.Json;
using Dynamo.Admin.Tests.Infrastructure;

namespace Dynamo.Admin.Tests.Live;

[Collection(AdminClusterCollection.Name)]
public sealed class MetricsHubTests(AdminCluster cluster)
{
    [Fact]
    public async Task Hub_SignedIn_StreamsSnapshotsWithPublishedRouterMetrics()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (client, cookies) = await cluster.SignedInClientAsync();
        client.Dispose();
        await using var hub = await SignalRJsonClient.ConnectAsync(cluster.AdminUrl, "hubs/metrics", cookies, cts.Token);

        // The current snapshot comes right after connecting; later ones once a second.
        var first = await hub.ReceiveInvocationAsync("snapshot", cts.Token);
        Assert.True(first.TryGetProperty("totals", out _), first.ToString());

        var routerId = "hub-router-" + Guid.NewGuid().ToString("N")[..6];
        var matched = default(JsonElement);
        var sequences = new List<long>();
        while (matched.ValueKind == JsonValueKind.Undefined)
        {
            await Synthetic.PublishAsync(cluster.Events, cluster.Namespace, Synthetic.Frontend(routerId, DateTimeOffset.UtcNow, requestsPerSecond: 7.25, ttftP99Ms: 333));
            var snapshot = await hub.ReceiveInvocationAsync("snapshot", cts.Token);
            sequences.Add(snapshot.GetProperty("sequence").GetInt64());
            foreach (var router in snapshot.GetProperty("routers").EnumerateArray())
            {
                if (router.GetProperty("routerId").GetString() == routerId)
                {
                    matched = snapshot;
                }
            }
        }

        var router0 = matched.GetProperty("routers").EnumerateArray().Single(r => r.GetProperty("routerId").GetString() == routerId);
        Assert.Equal(7.25, router0.GetProperty("requestsPerSecond").GetDouble());
        Assert.True(matched.GetProperty("totals").GetProperty("ttftP99Ms").GetDouble() >= 333);
        Assert.Contains(matched.GetProperty("recentDecisions").EnumerateArray(), d => d.GetProperty("policy").GetString() == "kv_aware");
        Assert.Equal(sequences.Order(), sequences);
    }

    [Fact]
    public async Task Hub_TwoClients_EachReceivesEverySnapshotFromTheOneFeed()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (a, cookies) = await cluster.SignedInClientAsync();
        a.Dispose();
        await using var first = await SignalRJsonClient.ConnectAsync(cluster.AdminUrl, "hubs/metrics", cookies, cts.Token);
        await using var second = await SignalRJsonClient.ConnectAsync(cluster.AdminUrl, "hubs/metrics", cookies, cts.Token);
        await first.ReceiveInvocationAsync("snapshot", cts.Token);
        await second.ReceiveInvocationAsync("snapshot", cts.Token);

        var one = (await first.ReceiveInvocationAsync("snapshot", cts.Token)).GetProperty("sequence").GetInt64();
        long two;
        do
        {
            two = (await second.ReceiveInvocationAsync("snapshot", cts.Token)).GetProperty("sequence").GetInt64();
        }
        while (two < one);

        Assert.Equal(one, two);
    }
}
