using System.Text.Json;
using System.Text.Json.Nodes;
using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Orchestration;

namespace Dynamo.AppHost.Publishing;

/// <summary>
/// The Aspire manifest azd reads: <c>project.v0</c> for projects (path relative to the manifest, env with
/// <c>{resource.connectionString}</c> / <c>{resource.bindings.http.url}</c> expressions, http/https bindings) and
/// <c>container.v0</c> for NATS and Redis (image, connection string expression, a tcp binding).
/// </summary>
internal static class AspireManifestWriter
{
    public const string Schema = "https://json.schemastore.org/aspire-8.0.json";

    public static string Write(DistributedApplicationModel model, string manifestDirectory)
    {
        var resources = new JsonObject();
        foreach (var resource in model.Resources)
        {
            resources[resource.Name] = resource switch
            {
                ProjectResource project => Project(project, manifestDirectory),
                ExecutableResource executable => Container(executable),
                _ => throw new InvalidOperationException($"Resource '{resource.Name}' of type {resource.GetType().Name} cannot be published."),
            };
        }

        var manifest = new JsonObject { ["$schema"] = Schema, ["resources"] = resources };
        return manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject Project(ProjectResource project, string manifestDirectory)
    {
        var env = new JsonObject
        {
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES"] = "true",
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES"] = "true",
            ["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true",
            ["HTTP_PORTS"] = $"{{{project.Name}.bindings.http.targetPort}}",
        };
        foreach (var target in DistributedApplicationModel.ReferencesOf(project))
        {
            if (target is IResourceWithConnectionString)
            {
                env[LaunchEnvironment.ConnectionStringVariable(target.Name)] = $"{{{target.Name}.connectionString}}";
            }
            else
            {
                env[LaunchEnvironment.ServiceUrlVariable(target.Name)] = $"{{{target.Name}.bindings.http.url}}";
                env[$"services__{target.Name}__https__0"] = $"{{{target.Name}.bindings.https.url}}";
            }
        }

        foreach (var annotation in project.Annotations.OfType<EnvironmentAnnotation>())
        {
            env[annotation.Name] = annotation.Value;
        }

        var http = new JsonObject { ["scheme"] = "http", ["protocol"] = "tcp", ["transport"] = "http" };
        var https = new JsonObject { ["scheme"] = "https", ["protocol"] = "tcp", ["transport"] = "http" };
        if (project.HasExternalHttpEndpoints)
        {
            http["external"] = true;
            https["external"] = true;
        }

        var node = new JsonObject
        {
            ["type"] = "project.v0",
            ["path"] = Path.GetRelativePath(manifestDirectory, project.Metadata.ProjectPath).Replace('\\', '/'),
            ["env"] = env,
            ["bindings"] = new JsonObject { ["http"] = http, ["https"] = https },
        };
        return node;
    }

    private static JsonObject Container(ExecutableResource executable)
    {
        var node = new JsonObject { ["type"] = "container.v0" };
        if (executable is IResourceWithConnectionString withConnectionString)
        {
            node["connectionString"] = withConnectionString.ConnectionStringExpression;
        }

        node["image"] = executable.Image;
        if (executable.ContainerArguments.Count > 0)
        {
            node["args"] = new JsonArray([.. executable.ContainerArguments.Select(a => (JsonNode)JsonValue.Create(a))]);
        }

        node["bindings"] = new JsonObject
        {
            ["tcp"] = new JsonObject
            {
                ["scheme"] = "tcp",
                ["protocol"] = "tcp",
                ["transport"] = "tcp",
                ["targetPort"] = executable.ContainerPort,
            },
        };
        return node;
    }
}
