namespace Dynamo.AppHost.Hosting;

/// <summary>Metadata attached to a resource by the builder API; orchestration and publishing read it.</summary>
public interface IResourceAnnotation;

/// <summary><c>WithReference</c>: the resource receives the target's connection string or service URL.</summary>
public sealed record ReferenceAnnotation(IResource Target) : IResourceAnnotation;

/// <summary><c>WaitFor</c>: the resource starts only after the target is healthy.</summary>
public sealed record WaitAnnotation(IResource Target) : IResourceAnnotation;

/// <summary><c>WithReplicas</c>: how many processes of a project run behind its proxy.</summary>
public sealed record ReplicasAnnotation(int Count) : IResourceAnnotation;

/// <summary><c>WithEnvironment</c>: a literal environment variable.</summary>
public sealed record EnvironmentAnnotation(string Name, string Value) : IResourceAnnotation;

/// <summary>
/// <c>WithDevelopmentApiKey</c>: when run locally the project receives the run's generated admin key and development API key
/// (<c>Gateway__AdminKey</c>, <c>Gateway__DevelopmentKey</c>); never published, since deployments bring their own secrets.
/// </summary>
public sealed record DevelopmentApiKeyAnnotation : IResourceAnnotation;

/// <summary>
/// <c>WithDevelopmentAdminCredentials</c>: when run locally the Admin app receives a generated operator sign-in
/// (<c>Admin__Username</c>, <c>Admin__Password</c>, printed and written to endpoints.json) and the run's gateway admin key
/// (<c>Admin__GatewayAdminKey</c>); never published.
/// </summary>
public sealed record DevelopmentAdminCredentialsAnnotation : IResourceAnnotation;

/// <summary><c>WithExternalHttpEndpoints</c>: the HTTP endpoint is public when deployed (ingress / external binding).</summary>
public sealed record ExternalHttpEndpointsAnnotation : IResourceAnnotation;
