using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Tests.Infrastructure;
using Dynamo.TestSupport;

namespace Dynamo.AppHost.Tests.Cluster;

/// <summary>
/// The real planner of the running cluster, with its <c>local</c> connector, scaling the real <c>worker</c> resource
/// through the AppHost control API. The test plays the Admin app: it writes replica bounds into the state plane (Redis)
/// and waits for the planner's next interval (30 s in the shipped settings) to apply them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PlannerLocalScalingTests(ClusterFixture cluster)
{
    // Keys of the default namespace "dynamo" (Dynamo.Runtime's StateKeys: dynamo:{ns}:state:{collection}, dynamo:{ns}:logs:{log}).
    private const string SlaKey = "dynamo:dynamo:state:sla";
    private const string DecisionLogKey = "dynamo:dynamo:logs:planner-decisions";

    // One planner interval, the time a new .NET worker needs to start on a busy machine, and the drain on scale-down.
    private static readonly TimeSpan s_applyTimeout = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task LocalConnector_SlaBoundsChange_PlannerScalesWorkerUpThenDrainsOneDown()
    {
        var redisUrl = cluster.Endpoints.Resources["redis"].Urls[0];
        // Other tests of the collection restart replicas; start from one running worker, as the topology declares.
        await cluster.AppHost.WaitForResourceAsync(cluster.ControlUrl, "worker", s => Running(s) == 1 && s.Replicas.Count == 1);
        try
        {
            await RedisAsync(redisUrl, "HSET", SlaKey, "default", Sla(minReplicas: 2, maxReplicas: 2));
            var scaledUp = await cluster.AppHost.WaitForResourceAsync(cluster.ControlUrl, "worker", s => Running(s) == 2, s_applyTimeout);
            var up = await FindDecisionAsync(redisUrl, from: 1, to: 2);
            Assert.StartsWith("AppHost accepted worker → 2 replicas", up.GetProperty("connectorOutcome").GetString(), StringComparison.Ordinal);

            await RedisAsync(redisUrl, "HSET", SlaKey, "default", Sla(minReplicas: 1, maxReplicas: 1));
            var scaledDown = await cluster.AppHost.WaitForResourceAsync(
                cluster.ControlUrl, "worker", s => Running(s) == 1 && s.Replicas.All(r => r.State is "Running" or "Stopped"), s_applyTimeout);

            // The planner read 2 replicas back from the control API before deciding to go down: its GetReplicasAsync
            // understands the real snapshot, not only the fake one of the planner's unit tests.
            var down = await FindDecisionAsync(redisUrl, from: 2, to: 1);
            Assert.StartsWith("AppHost accepted worker → 1 replicas", down.GetProperty("connectorOutcome").GetString(), StringComparison.Ordinal);
            var stopped = scaledUp.Replicas.Select(r => r.Pid).OfType<int>().Except(scaledDown.Replicas.Where(r => r.State == "Running").Select(r => r.Pid).OfType<int>()).ToList();
            Assert.Single(stopped);
            await Eventually.TrueAsync(() => !ProcessProbe.IsAlive(stopped[0]), $"worker pid {stopped[0]} exits after draining", seconds: 30);
        }
        finally
        {
            // Back to the shipped bounds; an idle cluster then stays at the pool minimum of 1, as it started.
            await RedisAsync(redisUrl, "HSET", SlaKey, "default", Sla(minReplicas: 1, maxReplicas: 4));
        }
    }

    private static int Running(ResourceSnapshot snapshot) => snapshot.Replicas.Count(r => r.State == "Running");

    private static string Sla(int minReplicas, int maxReplicas) =>
        "{\"v\":1,\"ttftMs\":500,\"itlMs\":50,\"pools\":{\"aggregated\":{\"minReplicas\":" + minReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"maxReplicas\":" + maxReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture)
        + "}},\"updatedBy\":\"apphost-tests\"}";

    /// <summary>The newest decision of the local connector that took the aggregated pool from <paramref name="from"/> to <paramref name="to"/>.</summary>
    private static async Task<JsonElement> FindDecisionAsync(string redisUrl, int from, int to)
    {
        var entries = await RedisAsync(redisUrl, "LRANGE", DecisionLogKey, "0", "199");
        foreach (var json in entries)
        {
            using var document = JsonDocument.Parse(json);
            var decision = document.RootElement;
            if (decision.GetProperty("connector").GetString() != "local")
            {
                continue;
            }

            foreach (var pool in decision.GetProperty("pools").EnumerateArray())
            {
                if (pool.GetProperty("pool").GetString() == "aggregated"
                    && pool.GetProperty("currentReplicas").GetInt32() == from
                    && pool.GetProperty("targetReplicas").GetInt32() == to)
                {
                    return pool.Clone();
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"No local-connector decision aggregated {from} → {to} among {entries.Count} logged decisions:\n{string.Join("\n", entries.Take(5))}");
    }

    /// <summary>One command over RESP; returns the reply's strings (one for a status or bulk reply, all items of an array).</summary>
    private static async Task<List<string>> RedisAsync(string url, params string[] command)
    {
        var uri = new Uri(url);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, uri.Port);
        var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(command.Length).Append("\r\n");
        foreach (var part in command)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new RespReader(stream);
        return await reader.ReadReplyAsync();
    }

    private sealed class RespReader(Stream stream) : IDisposable
    {
        private readonly BufferedStream _buffered = new(stream);

        public async Task<List<string>> ReadReplyAsync()
        {
            var line = await ReadLineAsync();
            return line[0] switch
            {
                '+' or ':' => [line[1..]],
                '-' => throw new InvalidOperationException($"Redis answered an error: {line[1..]}"),
                '$' => [await ReadBulkAsync(int.Parse(line[1..], System.Globalization.CultureInfo.InvariantCulture))],
                '*' => await ReadArrayAsync(int.Parse(line[1..], System.Globalization.CultureInfo.InvariantCulture)),
                _ => throw new InvalidOperationException($"Unexpected RESP reply '{line}'."),
            };
        }

        public void Dispose() => _buffered.Dispose();

        private async Task<List<string>> ReadArrayAsync(int count)
        {
            var items = new List<string>(Math.Max(0, count));
            for (var i = 0; i < count; i++)
            {
                var header = await ReadLineAsync();
                items.Add(header[0] == '$'
                    ? await ReadBulkAsync(int.Parse(header[1..], System.Globalization.CultureInfo.InvariantCulture))
                    : header[1..]);
            }

            return items;
        }

        private async Task<string> ReadBulkAsync(int length)
        {
            if (length < 0)
            {
                return "";
            }

            var data = new byte[length + 2];
            await _buffered.ReadExactlyAsync(data);
            return Encoding.UTF8.GetString(data, 0, length);
        }

        private async Task<string> ReadLineAsync()
        {
            var bytes = new List<byte>();
            var one = new byte[1];
            while (true)
            {
                await _buffered.ReadExactlyAsync(one);
                if (one[0] == '\n' && bytes.Count > 0 && bytes[^1] == '\r')
                {
                    return Encoding.UTF8.GetString(bytes.ToArray(), 0, bytes.Count - 1);
                }

                bytes.Add(one[0]);
            }
        }
    }
}
