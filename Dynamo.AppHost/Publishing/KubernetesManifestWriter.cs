using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Orchestration;
using YamlDotNet.Serialization;

namespace Dynamo.AppHost.Publishing;

/// <summary>
/// Plain Kubernetes manifests: a ConfigMap with the connection strings and service URLs (Aspire's variable names,
/// cluster DNS names as values), a StatefulSet + headless Service per server (NATS, Redis) and a Deployment +
/// Service per project, tied together by a kustomization.yaml.
/// </summary>
internal static class KubernetesManifestWriter
{
    public const string ConfigMapName = "dynamo-config";

    private static readonly ISerializer s_yaml = new SerializerBuilder().DisableAliases().Build();

    /// <summary>File name → YAML text.</summary>
    public static IReadOnlyList<(string File, string Yaml)> Write(DistributedApplicationModel model)
    {
        var files = new List<(string, string)> { ("configmap.yaml", Serialize(ConfigMap(model))) };
        foreach (var resource in model.Resources)
        {
            var documents = resource switch
            {
                ProjectResource project => new[] { Deployment(project), Service(resource.Name, DeploymentPublisher.ContainerHttpPort, "http", headless: false, project.HasExternalHttpEndpoints) },
                ExecutableResource executable => [StatefulSet(executable), Service(resource.Name, executable.ContainerPort, "tcp", headless: true, external: false)],
                _ => throw new InvalidOperationException($"Resource '{resource.Name}' of type {resource.GetType().Name} cannot be published."),
            };
            files.Add(($"{resource.Name}.yaml", Serialize(documents)));
        }

        var kustomization = new Dictionary<string, object>
        {
            ["apiVersion"] = "kustomize.config.k8s.io/v1beta1",
            ["kind"] = "Kustomization",
            ["resources"] = files.Select(f => f.Item1).ToList(),
        };
        files.Add(("kustomization.yaml", Serialize(kustomization)));
        return files;
    }

    private static Dictionary<string, object> ConfigMap(DistributedApplicationModel model)
    {
        var data = new Dictionary<string, object>();
        foreach (var resource in model.Resources)
        {
            switch (resource)
            {
                case NatsResource nats:
                    data[LaunchEnvironment.ConnectionStringVariable(nats.Name)] = $"nats://{nats.Name}:{nats.ContainerPort}";
                    break;
                case RedisResource redis:
                    data[LaunchEnvironment.ConnectionStringVariable(redis.Name)] = $"{redis.Name}:{redis.ContainerPort}";
                    break;
                case ProjectResource project:
                    data[LaunchEnvironment.ServiceUrlVariable(project.Name)] = $"http://{project.Name}:{DeploymentPublisher.ContainerHttpPort}";
                    break;
            }
        }

        return Object("v1", "ConfigMap", ConfigMapName, new() { ["data"] = data });
    }

    private static Dictionary<string, object> Deployment(ProjectResource project)
    {
        var container = new Dictionary<string, object>
        {
            ["name"] = project.Name,
            ["image"] = $"dynamo/{project.Name}:latest",
            ["ports"] = new[] { new Dictionary<string, object> { ["name"] = "http", ["containerPort"] = DeploymentPublisher.ContainerHttpPort } },
            ["envFrom"] = new[] { new Dictionary<string, object> { ["configMapRef"] = new Dictionary<string, object> { ["name"] = ConfigMapName } } },
            ["env"] = new object[]
            {
                Env("ASPNETCORE_URLS", $"http://+:{DeploymentPublisher.ContainerHttpPort}"),
                Env("OTEL_SERVICE_NAME", project.Name),
                new Dictionary<string, object>
                {
                    ["name"] = "DYNAMO_INSTANCE_ID",
                    ["valueFrom"] = new Dictionary<string, object> { ["fieldRef"] = new Dictionary<string, object> { ["fieldPath"] = "metadata.name" } },
                },
            }.Concat(project.Annotations.OfType<EnvironmentAnnotation>().Select(a => (object)Env(a.Name, a.Value))).ToList(),
            ["readinessProbe"] = Probe("/health"),
            ["livenessProbe"] = Probe("/alive"),
        };
        return Object("apps/v1", "Deployment", project.Name, new()
        {
            ["spec"] = new Dictionary<string, object>
            {
                ["replicas"] = project.Replicas,
                ["selector"] = new Dictionary<string, object> { ["matchLabels"] = Labels(project.Name) },
                ["template"] = new Dictionary<string, object>
                {
                    ["metadata"] = new Dictionary<string, object> { ["labels"] = Labels(project.Name) },
                    ["spec"] = new Dictionary<string, object>
                    {
                        // Matches the AppHost's local grace period idea: SIGTERM drains before SIGKILL.
                        ["terminationGracePeriodSeconds"] = 30,
                        ["containers"] = new[] { container },
                    },
                },
            },
        });
    }

    private static Dictionary<string, object> StatefulSet(ExecutableResource executable)
    {
        var container = new Dictionary<string, object>
        {
            ["name"] = executable.Name,
            ["image"] = executable.Image,
            ["args"] = executable.ContainerArguments.ToList(),
            ["ports"] = new[] { new Dictionary<string, object> { ["name"] = "tcp", ["containerPort"] = executable.ContainerPort } },
            ["volumeMounts"] = new[] { new Dictionary<string, object> { ["name"] = "data", ["mountPath"] = "/data" } },
            ["readinessProbe"] = new Dictionary<string, object> { ["tcpSocket"] = new Dictionary<string, object> { ["port"] = "tcp" } },
        };
        return Object("apps/v1", "StatefulSet", executable.Name, new()
        {
            ["spec"] = new Dictionary<string, object>
            {
                ["serviceName"] = executable.Name,
                ["replicas"] = 1,
                ["selector"] = new Dictionary<string, object> { ["matchLabels"] = Labels(executable.Name) },
                ["template"] = new Dictionary<string, object>
                {
                    ["metadata"] = new Dictionary<string, object> { ["labels"] = Labels(executable.Name) },
                    ["spec"] = new Dictionary<string, object> { ["containers"] = new[] { container } },
                },
                ["volumeClaimTemplates"] = new[]
                {
                    new Dictionary<string, object>
                    {
                        ["metadata"] = new Dictionary<string, object> { ["name"] = "data" },
                        ["spec"] = new Dictionary<string, object>
                        {
                            ["accessModes"] = new[] { "ReadWriteOnce" },
                            ["resources"] = new Dictionary<string, object> { ["requests"] = new Dictionary<string, object> { ["storage"] = "1Gi" } },
                        },
                    },
                },
            },
        });
    }

    private static Dictionary<string, object> Service(string name, int port, string portName, bool headless, bool external)
    {
        var spec = new Dictionary<string, object>
        {
            ["selector"] = Labels(name),
            ["ports"] = new[] { new Dictionary<string, object> { ["name"] = portName, ["port"] = port, ["targetPort"] = portName } },
        };
        if (headless)
        {
            spec["clusterIP"] = "None";
        }
        else if (external)
        {
            spec["type"] = "LoadBalancer";
        }

        return Object("v1", "Service", name, new() { ["spec"] = spec });
    }

    private static Dictionary<string, object> Object(string apiVersion, string kind, string name, Dictionary<string, object> body)
    {
        var result = new Dictionary<string, object>
        {
            ["apiVersion"] = apiVersion,
            ["kind"] = kind,
            ["metadata"] = new Dictionary<string, object> { ["name"] = name, ["labels"] = Labels(name) },
        };
        foreach (var (key, value) in body)
        {
            result[key] = value;
        }

        return result;
    }

    private static Dictionary<string, object> Labels(string name) => new()
    {
        ["app.kubernetes.io/name"] = name,
        ["app.kubernetes.io/part-of"] = "dynamo",
    };

    private static Dictionary<string, object> Env(string name, string value) => new() { ["name"] = name, ["value"] = value };

    private static Dictionary<string, object> Probe(string path) => new()
    {
        ["httpGet"] = new Dictionary<string, object> { ["path"] = path, ["port"] = "http" },
        ["periodSeconds"] = 5,
    };

    private static string Serialize(params object[] documents) => string.Join("---\n", documents.Select(d => s_yaml.Serialize(d)));
}
