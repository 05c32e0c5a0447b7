using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Tests.Hosting;

public sealed class DistributedApplicationModelTests
{
    [Fact]
    public void Builder_TopologyVerbs_BecomeAnnotations()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var redis = builder.AddRedis("redis");
        var router = builder.AddProject("router", new FakeProject()).WithReference(redis).WaitFor(redis).WithReplicas(3);

        Assert.Equal(3, router.Resource.Replicas);
        Assert.Equal([redis.Resource], DistributedApplicationModel.ReferencesOf(router.Resource));
        Assert.Equal([redis.Resource], DistributedApplicationModel.WaitsOf(router.Resource));
    }

    [Fact]
    public void Model_WaitCycle_ThrowsNamingTheCycle()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var a = builder.AddProject("a", new FakeProject());
        var b = builder.AddProject("b", new FakeProject()).WaitFor(a);
        a.WaitFor(b);

        var ex = Assert.Throws<InvalidOperationException>(() => new DistributedApplicationModel(builder.Resources));

        Assert.Contains("a -> b -> a", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Router")]
    [InlineData("1router")]
    [InlineData("router_1")]
    [InlineData("apphost")]
    public void AddResource_InvalidOrReservedName_Throws(string name)
    {
        var builder = DistributedApplication.CreateBuilder([]);

        Assert.Throws<ArgumentException>(() => builder.AddProject(name, new FakeProject()));
    }

    [Fact]
    public void AddResource_DuplicateName_Throws()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        builder.AddRedis("cache");

        Assert.Throws<ArgumentException>(() => builder.AddNats("cache"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void WithReplicas_OutOfRange_Throws(int replicas)
    {
        var builder = DistributedApplication.CreateBuilder([]);

        Assert.Throws<ArgumentOutOfRangeException>(() => builder.AddProject("p", new FakeProject()).WithReplicas(replicas));
    }

    [Fact]
    public void ConnectionStrings_LocalAndManifestForms()
    {
        var nats = new NatsResource("nats");
        var redis = new RedisResource("redis");

        Assert.Equal("nats://127.0.0.1:4222", nats.GetLocalConnectionString(4222));
        Assert.Equal("nats://{nats.bindings.tcp.host}:{nats.bindings.tcp.port}", nats.ConnectionStringExpression);
        Assert.Equal("127.0.0.1:6379", redis.GetLocalConnectionString(6379));
        Assert.Equal("{redis.bindings.tcp.host}:{redis.bindings.tcp.port}", redis.ConnectionStringExpression);
    }

    [Fact]
    public void GeneratedProjectMetadata_PointsAtRealProjects()
    {
        var router = new Projects.Dynamo_Router();

        Assert.True(File.Exists(router.ProjectPath), router.ProjectPath);
        Assert.EndsWith("Dynamo.Router.dll", router.TargetPath, StringComparison.Ordinal);
    }

    private sealed class FakeProject : IProjectMetadata
    {
        public string ProjectPath => "/src/Fake/Fake.csproj";

        public string TargetPath => "/src/Fake/bin/Fake.dll";
    }
}
