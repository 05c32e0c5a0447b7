using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Publishing;

/// <summary><c>--publish &lt;dir&gt;</c>: the Aspire manifest (for azd), Kubernetes manifests and a Dockerfile per project.</summary>
internal sealed class DeploymentPublisher(DistributedApplicationModel model, string repositoryRoot)
{
    public const string ManifestFile = "aspire-manifest.json";
    public const string KubernetesFolder = "k8s";
    public const string DockerfilesFolder = "dockerfiles";

    /// <summary>Port every project listens on inside its container (the ASP.NET Core container default).</summary>
    public const int ContainerHttpPort = 8080;

    /// <summary>Writes everything under <paramref name="directory"/> and returns the files written.</summary>
    public IReadOnlyList<string> Publish(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();

        var manifest = Path.Combine(directory, ManifestFile);
        File.WriteAllText(manifest, AspireManifestWriter.Write(model, directory));
        written.Add(manifest);

        var kubernetes = Path.Combine(directory, KubernetesFolder);
        Directory.CreateDirectory(kubernetes);
        foreach (var (name, yaml) in KubernetesManifestWriter.Write(model))
        {
            var path = Path.Combine(kubernetes, name);
            File.WriteAllText(path, yaml);
            written.Add(path);
        }

        var dockerfiles = Path.Combine(directory, DockerfilesFolder);
        Directory.CreateDirectory(dockerfiles);
        foreach (var project in model.Projects)
        {
            var path = Path.Combine(dockerfiles, $"{project.Name}.Dockerfile");
            File.WriteAllText(path, DockerfileWriter.Write(project, repositoryRoot));
            written.Add(path);
        }

        return written;
    }
}
