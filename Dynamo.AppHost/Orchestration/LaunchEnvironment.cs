using System.Globalization;
using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Orchestration;

/// <summary>
/// Aspire's environment conventions for a project replica: ConnectionStrings__{name}, services__{name}__http__0,
/// ASPNETCORE_URLS, OTEL_*, plus Dynamo's DYNAMO_REPLICA_INDEX / DYNAMO_INSTANCE_ID.
/// </summary>
internal static class LaunchEnvironment
{
    /// <param name="addresses">Per resource name: its connection string, or for a project its stable proxy URL.</param>
    public static Dictionary<string, string> ForProject(
        ProjectResource project,
        int replicaIndex,
        int port,
        string instanceId,
        IReadOnlyDictionary<string, string> addresses,
        string controlUrl,
        AppHostOptions options)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_ENVIRONMENT"] = options.Environment,
            ["DOTNET_ENVIRONMENT"] = options.Environment,
            // launchSettings profiles and an inherited HTTP_PORTS would override ASPNETCORE_URLS.
            ["HTTP_PORTS"] = "",
            ["HTTPS_PORTS"] = "",
            ["OTEL_SERVICE_NAME"] = project.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={instanceId}",
            ["DYNAMO_REPLICA_INDEX"] = replicaIndex.ToString(CultureInfo.InvariantCulture),
            ["DYNAMO_INSTANCE_ID"] = instanceId,
            // One line per log entry, so the name prefix the AppHost adds stays meaningful.
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            [ServiceUrlVariable(ControlApiServiceName)] = controlUrl,
        };
        if (!string.IsNullOrEmpty(options.OtlpEndpoint))
        {
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = options.OtlpEndpoint;
        }

        foreach (var target in DistributedApplicationModel.ReferencesOf(project))
        {
            var address = addresses[target.Name];
            if (target is IResourceWithConnectionString)
            {
                env[ConnectionStringVariable(target.Name)] = address;
            }
            else
            {
                env[ServiceUrlVariable(target.Name)] = address;
            }
        }

        foreach (var annotation in project.Annotations.OfType<EnvironmentAnnotation>())
        {
            env[annotation.Name] = annotation.Value;
        }

        return env;
    }

    /// <summary>Adds the run's keys to a project marked <see cref="DevelopmentApiKeyAnnotation"/> (the gateway's option names).</summary>
    public static Dictionary<string, string> WithDevelopmentKeys(this Dictionary<string, string> env, ProjectResource project, string adminKey, string developmentKey)
    {
        if (project.Annotations.OfType<DevelopmentApiKeyAnnotation>().Any())
        {
            env["Gateway__AdminKey"] = adminKey;
            env["Gateway__DevelopmentKey"] = developmentKey;
        }

        return env;
    }

    /// <summary>Adds the run's operator sign-in and gateway admin key to a project marked <see cref="DevelopmentAdminCredentialsAnnotation"/>.</summary>
    public static Dictionary<string, string> WithDevelopmentAdminCredentials(this Dictionary<string, string> env, ProjectResource project, string password, string gatewayAdminKey)
    {
        if (project.Annotations.OfType<DevelopmentAdminCredentialsAnnotation>().Any())
        {
            env["Admin__Username"] = RunContext.AdminUsername;
            env["Admin__Password"] = password;
            env["Admin__GatewayAdminKey"] = gatewayAdminKey;
        }

        return env;
    }

    public const string ControlApiServiceName = "apphost";

    public static string ConnectionStringVariable(string resource) => $"ConnectionStrings__{resource}";

    public static string ServiceUrlVariable(string resource) => $"services__{resource}__http__0";
}
