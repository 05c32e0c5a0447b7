namespace Dynamo.AppHost.Hosting;

/// <summary>A named part of the distributed application: a process the AppHost starts and supervises.</summary>
public interface IResource
{
    string Name { get; }

    IList<IResourceAnnotation> Annotations { get; }
}

/// <summary>A resource that other resources can reach through <c>ConnectionStrings__{name}</c>.</summary>
public interface IResourceWithConnectionString : IResource
{
    /// <summary>The connection string in Aspire manifest expression syntax, e.g. <c>{redis.bindings.tcp.host}:{redis.bindings.tcp.port}</c>.</summary>
    string ConnectionStringExpression { get; }

    /// <summary>The connection string of the locally started server listening on <paramref name="port"/>.</summary>
    string GetLocalConnectionString(int port);
}

/// <summary>A resource whose process receives environment variables (references, OTEL settings).</summary>
public interface IResourceWithEnvironment : IResource;

/// <summary>Generated per project reference (<c>Projects.Dynamo_Router</c>), like Aspire's IProjectMetadata.</summary>
public interface IProjectMetadata
{
    string ProjectPath { get; }

    /// <summary>The assembly the project builds to in the AppHost's configuration; empty when unknown.</summary>
    string TargetPath { get; }
}

public abstract class Resource(string name) : IResource
{
    public string Name { get; } = name;

    public IList<IResourceAnnotation> Annotations { get; } = [];

    public override string ToString() => Name;
}

/// <summary>How the AppHost decides that a started process is ready.</summary>
public enum ReadinessProbe
{
    /// <summary>GET <c>/health</c> answers 2xx.</summary>
    HttpHealth,

    /// <summary><c>PING</c> answers <c>+PONG</c> (Redis protocol).</summary>
    RedisPing,

    /// <summary>The server greets with an <c>INFO</c> line (NATS protocol).</summary>
    NatsInfo,
}

/// <summary>A native executable started on a free loopback port.</summary>
public class ExecutableResource(string name, string command, ReadinessProbe probe) : Resource(name), IResourceWithEnvironment
{
    /// <summary>The executable's file name, looked up on PATH and in the usual sbin folders.</summary>
    public string Command { get; } = command;

    public ReadinessProbe Probe { get; } = probe;

    /// <summary>Shown when <see cref="Command"/> cannot be found.</summary>
    public string InstallHint { get; init; } = "";

    /// <summary>Command-line arguments for a local run on <c>port</c> with its data in <c>dataDirectory</c>.</summary>
    public Func<int, string, IReadOnlyList<string>> LocalArguments { get; init; } = (_, _) => [];

    /// <summary>Container image used when publishing (manifest, Kubernetes).</summary>
    public string Image { get; init; } = "";

    /// <summary>Port the server listens on inside its container.</summary>
    public int ContainerPort { get; init; }

    /// <summary>Arguments for the container when publishing.</summary>
    public IReadOnlyList<string> ContainerArguments { get; init; } = [];
}

/// <summary>A real <c>nats-server</c> (event plane).</summary>
public sealed class NatsResource(string name) : ExecutableResource(name, "nats-server", ReadinessProbe.NatsInfo), IResourceWithConnectionString
{
    public string ConnectionStringExpression => $"nats://{{{Name}.bindings.tcp.host}}:{{{Name}.bindings.tcp.port}}";

    public string GetLocalConnectionString(int port) => $"nats://127.0.0.1:{port}";
}

/// <summary>A real <c>redis-server</c> (state plane).</summary>
public sealed class RedisResource(string name) : ExecutableResource(name, "redis-server", ReadinessProbe.RedisPing), IResourceWithConnectionString
{
    public string ConnectionStringExpression => $"{{{Name}.bindings.tcp.host}}:{{{Name}.bindings.tcp.port}}";

    public string GetLocalConnectionString(int port) => $"127.0.0.1:{port}";
}

/// <summary>A .NET project started as <c>dotnet &lt;TargetPath&gt;</c>, with one or more replicas behind a stable proxy.</summary>
public sealed class ProjectResource(string name, IProjectMetadata metadata) : Resource(name), IResourceWithEnvironment
{
    public IProjectMetadata Metadata { get; } = metadata;

    public int Replicas => Annotations.OfType<ReplicasAnnotation>().LastOrDefault()?.Count ?? 1;

    public bool HasExternalHttpEndpoints => Annotations.OfType<ExternalHttpEndpointsAnnotation>().Any();
}
