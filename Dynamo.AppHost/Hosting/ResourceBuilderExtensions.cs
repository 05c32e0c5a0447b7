namespace Dynamo.AppHost.Hosting;

/// <summary>The Aspire-style verbs: references, waits, replicas, environment.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>The most replicas one project may run locally; more would only exhaust a dev machine.</summary>
    public const int MaxReplicas = 64;

    /// <summary>Passes <c>ConnectionStrings__{source}</c> to the resource.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResourceWithConnectionString> source)
        where T : IResourceWithEnvironment
        => AddReference(builder, source.Resource);

    /// <summary>Passes <c>services__{project}__http__0</c> (the project's stable proxy URL) to the resource.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<ProjectResource> source)
        where T : IResourceWithEnvironment
        => AddReference(builder, source.Resource);

    /// <summary>Starts the resource only once <paramref name="dependency"/> is healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency)
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(dependency);
        if (ReferenceEquals(builder.Resource, dependency.Resource))
        {
            throw new ArgumentException($"Resource '{builder.Resource.Name}' cannot wait for itself.", nameof(dependency));
        }

        return builder.WithAnnotation(new WaitAnnotation(dependency.Resource));
    }

    public static IResourceBuilder<ProjectResource> WithReplicas(this IResourceBuilder<ProjectResource> builder, int replicas)
    {
        if (replicas is < 1 or > MaxReplicas)
        {
            throw new ArgumentOutOfRangeException(nameof(replicas), replicas, $"Replicas of '{builder.Resource.Name}' must be between 1 and {MaxReplicas}.");
        }

        return builder.WithAnnotation(new ReplicasAnnotation(replicas));
    }

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, string value)
        where T : IResourceWithEnvironment
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        return builder.WithAnnotation(new EnvironmentAnnotation(name, value));
    }

    /// <summary>Local runs: the project gets a fresh admin key and development API key; the key is printed and written to endpoints.json.</summary>
    public static IResourceBuilder<ProjectResource> WithDevelopmentApiKey(this IResourceBuilder<ProjectResource> builder)
        => builder.WithAnnotation(new DevelopmentApiKeyAnnotation());

    /// <summary>Local runs: the Admin app gets a generated operator sign-in and the gateway's admin key; both are printed and written to endpoints.json.</summary>
    public static IResourceBuilder<ProjectResource> WithDevelopmentAdminCredentials(this IResourceBuilder<ProjectResource> builder)
        => builder.WithAnnotation(new DevelopmentAdminCredentialsAnnotation());

    /// <summary>Marks the HTTP endpoint public when deployed (an external binding in the manifest).</summary>
    public static IResourceBuilder<ProjectResource> WithExternalHttpEndpoints(this IResourceBuilder<ProjectResource> builder)
        => builder.WithAnnotation(new ExternalHttpEndpointsAnnotation());

    private static IResourceBuilder<T> AddReference<T>(IResourceBuilder<T> builder, IResource target)
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(target);
        if (ReferenceEquals(builder.Resource, target))
        {
            throw new ArgumentException($"Resource '{target.Name}' cannot reference itself.", nameof(target));
        }

        return builder.WithAnnotation(new ReferenceAnnotation(target));
    }
}
