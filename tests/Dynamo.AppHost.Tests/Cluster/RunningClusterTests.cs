using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Tests.Infrastructure;

namespace Dynamo.AppHost.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class RunningClusterTests(ClusterFixture cluster)
{
    private static readonly string[] s_services = ["worker", "router", "gateway", "planner", "admin"];

    private HttpClient Http => cluster.AppHost.Http;

    [Fact]
    public async Task Start_FullTopology_EveryServiceHealthyThroughProxyAndReplica()
    {
        var resources = cluster.Endpoints.Resources;
        Assert.Equal(s_services.Append("nats").Append("redis").Order(StringComparer.Ordinal), resources.Keys.Order(StringComparer.Ordinal));
        foreach (var name in s_services)
        {
            var resource = resources[name];
            Assert.Equal("project", resource.Type);
            Assert.Equal(2, resource.Urls.Count);
            foreach (var url in resource.Urls)
            {
                Assert.Equal("Healthy", await HealthStatusAsync(Http, $"{url}/health"));
            }
        }

        Assert.StartsWith("INFO ", await ExchangeAsync(resources["nats"].Urls[0], ""));
        Assert.StartsWith("+PONG", await ExchangeAsync(resources["redis"].Urls[0], "PING\r\n"));
    }

    [Fact]
    public async Task ControlApi_ListResources_MatchesEndpointsFile()
    {
        var listed = await Http.GetFromJsonAsync<List<ResourceSnapshot>>($"{cluster.ControlUrl}/api/resources", EndpointsFile.JsonOptions);

        Assert.NotNull(listed);
        Assert.Equal(cluster.Endpoints.Resources.Keys.Order(), listed.Select(r => r.Name).Order());
        Assert.All(listed, r => Assert.NotEmpty(r.Pids));
        Assert.All(listed, r => Assert.All(r.Pids, pid => Assert.True(ProcessProbe.IsAlive(pid), $"{r.Name} pid {pid} is not alive")));
    }

    [Fact]
    public async Task Children_RunInTheirOwnSession_SoTerminalCtrlCReachesOnlyTheAppHost()
    {
        // Other tests of the collection restart children, so read the current PIDs.
        var redis = await cluster.AppHost.GetResourceAsync(cluster.ControlUrl, "redis");
        var router = await cluster.AppHost.GetResourceAsync(cluster.ControlUrl, "router");
        var pids = redis.Pids.Concat(router.Pids).ToList();

        Assert.NotEmpty(pids);
        Assert.All(pids, pid => Assert.Equal(pid, ProcessProbe.SessionId(pid)));
        Assert.NotEqual(cluster.AppHost.Pid, ProcessProbe.SessionId(pids[0]));
    }

    [Fact]
    public async Task Children_GetAspireEnvironmentConventions()
    {
        var resources = cluster.Endpoints.Resources;
        var router = await cluster.AppHost.GetResourceAsync(cluster.ControlUrl, "router");
        var env = ProcessProbe.Environment(router.Replicas[0].Pid!.Value);

        Assert.Equal(resources["nats"].ConnectionString, env["ConnectionStrings__nats"]);
        Assert.Equal(resources["redis"].ConnectionString, env["ConnectionStrings__redis"]);
        Assert.Equal(router.Replicas[0].Url, env["ASPNETCORE_URLS"]);
        Assert.Equal("router", env["OTEL_SERVICE_NAME"]);
        Assert.Equal("0", env["DYNAMO_REPLICA_INDEX"]);
        Assert.Equal(router.Replicas[0].InstanceId, env["DYNAMO_INSTANCE_ID"]);
        Assert.Equal(cluster.ControlUrl, env["services__apphost__http__0"]);

        var gateway = await cluster.AppHost.GetResourceAsync(cluster.ControlUrl, "gateway");
        var gatewayEnv = ProcessProbe.Environment(gateway.Replicas[0].Pid!.Value);
        Assert.Equal(resources["router"].Urls[0], gatewayEnv["services__router__http__0"]);
        Assert.Equal(resources["redis"].ConnectionString, gatewayEnv["ConnectionStrings__redis"]);
        Assert.False(gatewayEnv.ContainsKey("services__worker__http__0"));
    }

    [Fact]
    public async Task Gateway_DevelopmentKeyFromEndpointsFile_IsAcceptedAndAuthStaysOn()
    {
        var apiKey = cluster.Endpoints.ApiKey;
        var gateway = cluster.Endpoints.Resources["gateway"].Urls[0];
        Assert.False(string.IsNullOrEmpty(apiKey), "endpoints.json has no apiKey");
        Assert.Contains(apiKey, cluster.AppHost.StandardOutput, StringComparison.Ordinal);

        using var anonymous = await Http.GetAsync($"{gateway}/v1/models");
        var authorized = HttpStatusCode.Unauthorized;
        for (var attempt = 0; attempt < 100 && authorized == HttpStatusCode.Unauthorized; attempt++)
        {
            // The gateway provisions the key into Redis just after it reports healthy.
            using var retry = new HttpRequestMessage(HttpMethod.Get, $"{gateway}/v1/models") { Headers = { Authorization = new("Bearer", apiKey) } };
            using var response = await Http.SendAsync(retry);
            authorized = response.StatusCode;
            if (authorized == HttpStatusCode.Unauthorized)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, authorized);
    }

    [Theory]
    [InlineData("redis", "router")]
    [InlineData("nats", "worker")]
    [InlineData("redis", "worker")]
    [InlineData("nats", "planner")]
    public void Start_WaitFor_DependentStartsOnlyAfterDependencyHealthy(string dependency, string dependent)
    {
        var output = cluster.AppHost.StandardOutput;

        var healthy = output.IndexOf($"{dependency} is healthy at", StringComparison.Ordinal);
        var started = output.IndexOf($"{dependent}-0 started (pid", StringComparison.Ordinal);

        Assert.True(healthy >= 0, $"no '{dependency} is healthy' line");
        Assert.True(started > healthy, $"{dependent} started before {dependency} was healthy");
    }

    [Fact]
    public void ChildOutput_IsPrefixedWithReplicaName()
    {
        var lines = cluster.AppHost.StandardOutput.Split('\n');

        Assert.Contains(lines, l => l.StartsWith("router-0", StringComparison.Ordinal) && l.Contains(" | ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("redis-0", StringComparison.Ordinal) && l.Contains(" | ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scale_RouterToTwoAndBackToOne_ReplicasFollowAndProxyServesBoth()
    {
        var scaledUp = await Http.PostAsJsonAsync($"{cluster.ControlUrl}/api/resources/router/scale", new { replicas = 2 });
        Assert.Equal(HttpStatusCode.Accepted, scaledUp.StatusCode);

        var two = await cluster.AppHost.WaitForResourceAsync(cluster.ControlUrl, "router",
            r => r.Replicas.Count == 2 && r.Replicas.All(x => x.State == "Running" && x.Pid is not null));
        Assert.NotEqual(two.Replicas[0].Pid, two.Replicas[1].Pid);
        Assert.Equal("1", ProcessProbe.Environment(two.Replicas[1].Pid!.Value)["DYNAMO_REPLICA_INDEX"]);
        foreach (var replica in two.Replicas)
        {
            Assert.Equal("Healthy", await HealthStatusAsync(Http, $"{replica.Url}/health"));
        }

        // Fresh connections through the stable proxy URL alternate between the replicas and all succeed.
        for (var i = 0; i < 4; i++)
        {
            using var fresh = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero });
            Assert.Equal("Healthy", await HealthStatusAsync(fresh, $"{two.Urls[0]}/health"));
        }

        var removedPid = two.Replicas[1].Pid!.Value;
        var scaledDown = await Http.PostAsJsonAsync($"{cluster.ControlUrl}/api/resources/router/scale", new { replicas = 1 });
        Assert.Equal(HttpStatusCode.Accepted, scaledDown.StatusCode);

        var one = await cluster.AppHost.WaitForResourceAsync(cluster.ControlUrl, "router", r => r.Replicas.Count == 1);
        Assert.Equal(two.Replicas[0].Pid, one.Replicas[0].Pid);
        Assert.True(await ProcessProbe.WaitAllDeadAsync([removedPid], TimeSpan.FromSeconds(30)), "the scaled-down replica still runs");
    }

    [Fact]
    public async Task KilledChild_IsRestartedWithNewProcess()
    {
        var before = await cluster.AppHost.GetResourceAsync(cluster.ControlUrl, "worker");
        var oldPid = before.Replicas[0].Pid!.Value;

        _ = NativeMethods.Kill(oldPid, ProcessProbe.SIGKILL);

        var after = await cluster.AppHost.WaitForResourceAsync(cluster.ControlUrl, "worker",
            r => r.State == "Running" && r.Replicas[0].Pid is { } pid && pid != oldPid);
        Assert.True(after.Replicas[0].Restarts > before.Replicas[0].Restarts);
        Assert.False(ProcessProbe.IsAlive(oldPid));
        Assert.Equal("Healthy", await HealthStatusAsync(Http, $"{after.Urls[0]}/health"));
    }

    [Fact]
    public async Task RestartReplica_ViaControlApi_ReplacesProcess()
    {
        var before = await cluster.AppHost.GetResourceAsync(cluster.ControlUrl, "planner");

        var response = await Http.PostAsync($"{cluster.ControlUrl}/api/resources/planner/replicas/0/restart", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var after = await cluster.AppHost.WaitForResourceAsync(cluster.ControlUrl, "planner",
            r => r.State == "Running" && r.Replicas[0].Pid is { } pid && pid != before.Replicas[0].Pid);
        Assert.True(await ProcessProbe.WaitAllDeadAsync([before.Replicas[0].Pid!.Value], TimeSpan.FromSeconds(15)));
        Assert.Equal("Healthy", await HealthStatusAsync(Http, $"{after.Replicas[0].Url}/health"));
    }

    [Theory]
    [InlineData("nats", "{\"replicas\":2}", HttpStatusCode.BadRequest)]
    [InlineData("router", "{\"replicas\":65}", HttpStatusCode.BadRequest)]
    [InlineData("router", "{}", HttpStatusCode.BadRequest)]
    [InlineData("nope", "{\"replicas\":1}", HttpStatusCode.NotFound)]
    public async Task Scale_BadRequest_IsRejectedWithError(string resource, string body, HttpStatusCode expected)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        var response = await Http.PostAsync($"{cluster.ControlUrl}/api/resources/{resource}/scale", content);

        Assert.Equal(expected, response.StatusCode);
        Assert.Contains("\"error\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartReplica_UnknownIndex_NotFound()
    {
        var response = await Http.PostAsync($"{cluster.ControlUrl}/api/resources/router/replicas/7/restart", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static async Task<string> ExchangeAsync(string url, string request)
    {
        var uri = new Uri(url);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, uri.Port);
        var stream = client.GetStream();
        if (request.Length > 0)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        }

        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    // /health answers a JSON report ({"status": "Healthy", "checks": {...}}), NATS and Redis reachability included.
    private static async Task<string?> HealthStatusAsync(HttpClient http, string url)
    {
        using var document = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(url));
        return document.RootElement.GetProperty("status").GetString();
    }
}
