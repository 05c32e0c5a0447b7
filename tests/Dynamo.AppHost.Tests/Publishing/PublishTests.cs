using System.Text.Json;
using Dynamo.AppHost.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Dynamo.AppHost.Tests.Publishing;

/// <summary>Runs the real AppHost with <c>--publish</c> once and parses what it writes.</summary>
public sealed class PublishTests : IAsyncLifetime
{
    private static readonly string[] s_services = ["worker", "router", "gateway", "planner", "admin"];
    private readonly string _output = Path.Combine(Path.GetTempPath(), "dynamo-publish-tests", Guid.NewGuid().ToString("N")[..12]);

    public async Task InitializeAsync()
    {
        await using var appHost = AppHostProcess.Start("--publish", _output);
        Assert.True(await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(appHost.ExitCode == 0, appHost.StandardError);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_output, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public void AspireManifest_NamesEveryResourceWithAzdTypes()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_output, "aspire-manifest.json")));
        var resources = manifest.RootElement.GetProperty("resources");

        foreach (var service in s_services)
        {
            var project = resources.GetProperty(service);
            Assert.Equal("project.v0", project.GetProperty("type").GetString());
            var path = Path.GetFullPath(Path.Combine(_output, project.GetProperty("path").GetString()!));
            Assert.True(File.Exists(path), $"{service}: {path} does not exist");
            Assert.Equal("http", project.GetProperty("bindings").GetProperty("http").GetProperty("scheme").GetString());
        }

        var nats = resources.GetProperty("nats");
        Assert.Equal("container.v0", nats.GetProperty("type").GetString());
        Assert.Equal("nats:2.10", nats.GetProperty("image").GetString());
        Assert.Equal("nats://{nats.bindings.tcp.host}:{nats.bindings.tcp.port}", nats.GetProperty("connectionString").GetString());
        Assert.Equal(4222, nats.GetProperty("bindings").GetProperty("tcp").GetProperty("targetPort").GetInt32());
        var redis = resources.GetProperty("redis");
        Assert.Equal("redis:7", redis.GetProperty("image").GetString());
        Assert.Equal("{redis.bindings.tcp.host}:{redis.bindings.tcp.port}", redis.GetProperty("connectionString").GetString());
    }

    [Fact]
    public void AspireManifest_ReferencesBecomeExpressions()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_output, "aspire-manifest.json")));
        var resources = manifest.RootElement.GetProperty("resources");

        var router = resources.GetProperty("router").GetProperty("env");
        Assert.Equal("{nats.connectionString}", router.GetProperty("ConnectionStrings__nats").GetString());
        Assert.Equal("{redis.connectionString}", router.GetProperty("ConnectionStrings__redis").GetString());
        var gateway = resources.GetProperty("gateway");
        Assert.Equal("{router.bindings.http.url}", gateway.GetProperty("env").GetProperty("services__router__http__0").GetString());
        Assert.True(gateway.GetProperty("bindings").GetProperty("http").GetProperty("external").GetBoolean());
        Assert.False(resources.GetProperty("router").GetProperty("bindings").GetProperty("http").TryGetProperty("external", out _));
    }

    [Fact]
    public void Kubernetes_DeploymentAndServicePerService_StatefulSetsForServers_ConfigMap()
    {
        var kinds = new List<(string Kind, string Name)>();
        foreach (var file in Directory.GetFiles(Path.Combine(_output, "k8s"), "*.yaml"))
        {
            var stream = new YamlStream();
            using var reader = new StringReader(File.ReadAllText(file));
            stream.Load(reader);
            foreach (var document in stream.Documents)
            {
                var root = (YamlMappingNode)document.RootNode;
                var kind = ((YamlScalarNode)root["kind"]).Value!;
                var name = kind == "Kustomization" ? "" : ((YamlScalarNode)((YamlMappingNode)root["metadata"])["name"]).Value!;
                kinds.Add((kind, name));
                if (kind == "ConfigMap")
                {
                    var data = (YamlMappingNode)root["data"];
                    Assert.Equal("nats://nats:4222", ((YamlScalarNode)data["ConnectionStrings__nats"]).Value);
                    Assert.Equal("http://router:8080", ((YamlScalarNode)data["services__router__http__0"]).Value);
                }
            }
        }

        foreach (var service in s_services)
        {
            Assert.Contains(("Deployment", service), kinds);
            Assert.Contains(("Service", service), kinds);
        }

        Assert.Contains(("StatefulSet", "nats"), kinds);
        Assert.Contains(("StatefulSet", "redis"), kinds);
        Assert.Contains(("ConfigMap", "dynamo-config"), kinds);
        Assert.Contains(("Kustomization", ""), kinds);
    }

    [Fact]
    public void Dockerfiles_OnePerServiceStartingItsAssembly()
    {
        foreach (var service in s_services)
        {
            var text = File.ReadAllText(Path.Combine(_output, "dockerfiles", $"{service}.Dockerfile"));
            var assembly = "Dynamo." + char.ToUpperInvariant(service[0]) + service[1..];
            Assert.Contains($"dotnet publish \"{assembly}/{assembly}.csproj\"", text, StringComparison.Ordinal);
            Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{assembly}.dll\"]", text, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^RUN apt-get .*install .*cmake g\+\+.*\n(?:.*\n)*?RUN dotnet publish", text);
        }
    }
}
