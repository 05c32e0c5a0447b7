namespace Dynamo.AppHost.Hosting;

/// <summary><c>AddNats</c>, <c>AddRedis</c>, <c>AddProject</c>: the resources a Dynamo topology is made of.</summary>
public static class DistributedApplicationBuilderExtensions
{
    public static IResourceBuilder<NatsResource> AddNats(this IDistributedApplicationBuilder builder, string name)
        => builder.AddResource(new NatsResource(name)
        {
            InstallHint = "install it with `sudo apt-get install nats-server` (or set AppHost:ExecutablePaths:" + name + ")",
            LocalArguments = (port, _) => ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            Image = "nats:2.10",
            ContainerPort = 4222,
            ContainerArguments = ["-js", "-sd", "/data"],
        });

    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name)
        => builder.AddResource(new RedisResource(name)
        {
            InstallHint = "install it with `sudo apt-get install redis-server` (or set AppHost:ExecutablePaths:" + name + ")",
            // No snapshots: local state is throw-away, and a save on shutdown would slow the graceful stop.
            LocalArguments = (port, dataDirectory) =>
            [
                "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1",
                "--dir", dataDirectory,
                "--save", "",
                "--appendonly", "no",
            ],
            Image = "redis:7",
            ContainerPort = 6379,
            ContainerArguments = ["--save", "60", "1", "--dir", "/data"],
        });

    /// <summary>Adds a project described by generated metadata, e.g. <c>AddProject&lt;Projects.Dynamo_Router&gt;("router")</c>.</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
        => builder.AddResource(new ProjectResource(name, new TProject()));

    public static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, IProjectMetadata metadata)
        => builder.AddResource(new ProjectResource(name, metadata));
}
