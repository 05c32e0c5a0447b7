using System.Text.Json;
using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Orchestration;
using Dynamo.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dynamo.AppHost.Tests.Orchestration;

public sealed class ProjectBuildRunnerTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "dynamo-build-tests", Guid.NewGuid().ToString("N")[..12]);
    private readonly ProjectBuildRunner _runner;

    public ProjectBuildRunnerTests()
    {
        var run = new RunContext(Options.Create(new AppHostOptions { StateDirectory = _state }), TimeProvider.System);
        var spawner = new ProcessSpawner(new ChildLogWriter(TextWriter.Null), NullLogger<ProcessSpawner>.Instance);
        _runner = new ProjectBuildRunner(new ChildLogWriter(TextWriter.Null), run, spawner, TimeProvider.System);
    }

    [Fact]
    public void WriteSolutionFilter_ProjectsInSolution_OneFilterOverTheSolution()
    {
        var filter = _runner.WriteSolutionFilter(
        [
            new ProjectResource("router", new Projects.Dynamo_Router()),
            new ProjectResource("worker", new Projects.Dynamo_Worker()),
        ]);

        Assert.NotNull(filter);
        using var document = JsonDocument.Parse(File.ReadAllText(filter));
        var solution = document.RootElement.GetProperty("solution");
        Assert.Equal(Path.Combine(RepoPaths.Root, "Dynamo.Aspire.sln"), solution.GetProperty("path").GetString());
        Assert.Equal(
            ["Dynamo.Router/Dynamo.Router.csproj", "Dynamo.Worker/Dynamo.Worker.csproj"],
            solution.GetProperty("projects").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public void WriteSolutionFilter_ProjectOutsideSolution_NoFilter()
    {
        var filter = _runner.WriteSolutionFilter([new ProjectResource("elsewhere", new OutsideProject())]);

        Assert.Null(filter);
    }

    [Fact]
    public async Task ResolveTargetPath_SameConfiguration_UsesGeneratedMetadata()
    {
        var router = new ProjectResource("router", new Projects.Dynamo_Router());

        var path = await _runner.ResolveTargetPathAsync(router, Projects.BuildInfo.Configuration, CancellationToken.None);

        Assert.Equal(new Projects.Dynamo_Router().TargetPath, path);
        Assert.True(File.Exists(path), path);
    }

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    private sealed class OutsideProject : IProjectMetadata
    {
        public string ProjectPath => "/elsewhere/Other/Other.csproj";

        public string TargetPath => "";
    }
}
