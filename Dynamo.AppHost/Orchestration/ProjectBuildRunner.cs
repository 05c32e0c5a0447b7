using System.Text.Json;
using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Orchestration;

/// <summary>
/// Builds all project resources with one <c>dotnet build</c> (a solution filter over Dynamo.Aspire.sln, so MSBuild
/// builds shared libraries once and in parallel) and finds each project's output assembly.
/// </summary>
internal sealed class ProjectBuildRunner(ChildLogWriter logs, RunContext run, ProcessSpawner spawner, TimeProvider time)
{
    private const string Source = "build";

    public static string DotnetHost
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
            {
                return host;
            }

            return Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet"
                ? self
                : ExecutableLocator.Find("dotnet") ?? "dotnet";
        }
    }

    /// <summary>Returns null on success, else a one-line error.</summary>
    public async Task<string?> BuildAsync(IReadOnlyList<ProjectResource> projects, string configuration, CancellationToken cancellationToken)
    {
        if (projects.Count == 0)
        {
            return null;
        }

        var target = WriteSolutionFilter(projects);
        var targets = target is null ? projects.Select(p => p.Metadata.ProjectPath).ToList() : [target];
        foreach (var path in targets)
        {
            // No node reuse: nothing of the build may outlive the AppHost.
            var exitCode = await RunDotnetAsync(["build", path, "-c", configuration, "-nologo", "-v:q", "-clp:NoSummary", "-nodeReuse:false"], cancellationToken)
                .ConfigureAwait(false);
            if (exitCode != 0)
            {
                return $"`dotnet build {path} -c {configuration}` failed with exit code {exitCode} (see the build lines above).";
            }
        }

        return null;
    }

    /// <summary>The output assembly of <paramref name="project"/>: the generated metadata when it matches the configuration, else MSBuild's answer.</summary>
    public async Task<string> ResolveTargetPathAsync(ProjectResource project, string configuration, CancellationToken cancellationToken)
    {
        var path = project.Metadata.TargetPath;
        if (string.IsNullOrEmpty(path) || configuration != Projects.BuildInfo.Configuration)
        {
            var output = new List<string>();
            var exitCode = await RunDotnetAsync(
                ["msbuild", project.Metadata.ProjectPath, "-nologo", "-getProperty:TargetPath", $"-p:Configuration={configuration}"],
                cancellationToken,
                output).ConfigureAwait(false);
            path = exitCode == 0 ? output.LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "" : "";
        }

        return path;
    }

    /// <summary>A solution filter over the repository's solution, or null when a project is not in it.</summary>
    internal string? WriteSolutionFilter(IReadOnlyList<ProjectResource> projects)
    {
        var solution = Path.Combine(run.RepositoryRoot, RepositoryLayout.SolutionFile);
        if (!File.Exists(solution))
        {
            return null;
        }

        var text = File.ReadAllText(solution).Replace('\\', '/');
        var relative = projects.Select(p => Path.GetRelativePath(run.RepositoryRoot, p.Metadata.ProjectPath).Replace('\\', '/')).Distinct().ToList();
        if (relative.Any(r => !text.Contains('"' + r + '"', StringComparison.Ordinal)))
        {
            return null;
        }

        Directory.CreateDirectory(run.RunDirectory);
        var filter = Path.Combine(run.RunDirectory, "projects.slnf");
        var document = new { solution = new { path = solution, projects = relative } };
        File.WriteAllText(filter, JsonSerializer.Serialize(document));
        return filter;
    }

    /// <summary>Runs dotnet through the spawner, so a build dies with the AppHost too.</summary>
    private async Task<int> RunDotnetAsync(IReadOnlyList<string> args, CancellationToken cancellationToken, List<string>? capture = null)
    {
        var spec = new LaunchSpec(Source, DotnetHost, args, new Dictionary<string, string> { ["DOTNET_CLI_UI_LANGUAGE"] = "en" }, run.RepositoryRoot)
        {
            OnOutput = OnLine,
        };
        using var process = await spawner.StartAsync(spec, cancellationToken).ConfigureAwait(false);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await ProcessStopper.StopAsync(process, TimeSpan.FromSeconds(5), time).ConfigureAwait(false);
            throw;
        }

        // WaitForExitAsync returns once the output streams are drained too.
        return process.ExitCode;

        void OnLine(string line, bool isError)
        {
            if (capture is not null)
            {
                lock (capture)
                {
                    capture.Add(line);
                }
            }
            else if (line.Trim().Length > 0)
            {
                logs.Write(Source, line, isError);
            }
        }
    }
}
