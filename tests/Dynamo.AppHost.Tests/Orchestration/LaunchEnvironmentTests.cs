using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Orchestration;

namespace Dynamo.AppHost.Tests.Orchestration;

public sealed class LaunchEnvironmentTests
{
    private static readonly Dictionary<string, string> s_addresses = new()
    {
        ["nats"] = "nats://127.0.0.1:4222",
        ["redis"] = "127.0.0.1:6379",
        ["router"] = "http://127.0.0.1:5000",
        ["gateway"] = "http://127.0.0.1:5001",
    };

    [Fact]
    public void ForProject_References_FollowAspireConventions()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var nats = builder.AddNats("nats");
        var redis = builder.AddRedis("redis");
        var router = builder.AddProject("router", new Projects.Dynamo_Router());
        var gateway = builder.AddProject("gateway", new Projects.Dynamo_Gateway())
            .WithReference(nats).WithReference(redis).WithReference(router).WithEnvironment("EXTRA", "1");

        var env = LaunchEnvironment.ForProject(gateway.Resource, 2, 6001, "gateway-2-abc", s_addresses, "http://127.0.0.1:7000", new AppHostOptions());

        Assert.Equal("nats://127.0.0.1:4222", env["ConnectionStrings__nats"]);
        Assert.Equal("127.0.0.1:6379", env["ConnectionStrings__redis"]);
        Assert.Equal("http://127.0.0.1:5000", env["services__router__http__0"]);
        Assert.Equal("http://127.0.0.1:7000", env["services__apphost__http__0"]);
        Assert.Equal("http://127.0.0.1:6001", env["ASPNETCORE_URLS"]);
        Assert.Equal("gateway", env["OTEL_SERVICE_NAME"]);
        Assert.Equal("2", env["DYNAMO_REPLICA_INDEX"]);
        Assert.Equal("gateway-2-abc", env["DYNAMO_INSTANCE_ID"]);
        Assert.Equal("1", env["EXTRA"]);
        Assert.False(env.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT"));
    }

    [Fact]
    public void WithDevelopmentKeys_MarkedProject_GetsBothKeysAndOthersDoNot()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var router = builder.AddProject("router", new Projects.Dynamo_Router());
        var gateway = builder.AddProject("gateway", new Projects.Dynamo_Gateway()).WithDevelopmentApiKey();

        var gatewayEnv = LaunchEnvironment.ForProject(gateway.Resource, 0, 6001, "g", s_addresses, "http://127.0.0.1:7000", new AppHostOptions())
            .WithDevelopmentKeys(gateway.Resource, "admin-secret", "dyn-dev");
        var routerEnv = LaunchEnvironment.ForProject(router.Resource, 0, 6002, "r", s_addresses, "http://127.0.0.1:7000", new AppHostOptions())
            .WithDevelopmentKeys(router.Resource, "admin-secret", "dyn-dev");

        Assert.Equal("admin-secret", gatewayEnv["Gateway__AdminKey"]);
        Assert.Equal("dyn-dev", gatewayEnv["Gateway__DevelopmentKey"]);
        Assert.False(routerEnv.ContainsKey("Gateway__AdminKey"));
        Assert.False(routerEnv.ContainsKey("Gateway__DevelopmentKey"));
    }

    [Fact]
    public void WithDevelopmentAdminCredentials_MarkedProject_GetsSignInAndGatewayKeyOthersDoNot()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var gateway = builder.AddProject("gateway", new Projects.Dynamo_Gateway()).WithDevelopmentApiKey();
        var admin = builder.AddProject("admin", new Projects.Dynamo_Admin()).WithReference(gateway).WithDevelopmentAdminCredentials();

        var adminEnv = LaunchEnvironment.ForProject(admin.Resource, 0, 6003, "a", s_addresses, "http://127.0.0.1:7000", new AppHostOptions())
            .WithDevelopmentAdminCredentials(admin.Resource, "operator-secret", "admin-secret");
        var gatewayEnv = LaunchEnvironment.ForProject(gateway.Resource, 0, 6001, "g", s_addresses, "http://127.0.0.1:7000", new AppHostOptions())
            .WithDevelopmentAdminCredentials(gateway.Resource, "operator-secret", "admin-secret");

        Assert.Equal(RunContext.AdminUsername, adminEnv["Admin__Username"]);
        Assert.Equal("operator-secret", adminEnv["Admin__Password"]);
        Assert.Equal("admin-secret", adminEnv["Admin__GatewayAdminKey"]);
        Assert.Equal("http://127.0.0.1:5001", adminEnv["services__gateway__http__0"]);
        Assert.False(gatewayEnv.ContainsKey("Admin__Password"));
    }

    [Fact]
    public void ForProject_OtlpEndpointSet_IsPassedOn()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var worker = builder.AddProject("worker", new Projects.Dynamo_Worker());

        var env = LaunchEnvironment.ForProject(worker.Resource, 0, 6001, "w", s_addresses, "http://127.0.0.1:7000",
            new AppHostOptions { OtlpEndpoint = "http://collector:4317" });

        Assert.Equal("http://collector:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.False(env.ContainsKey("ConnectionStrings__nats"));
    }
}
