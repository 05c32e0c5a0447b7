using Dynamo.Router.Hosting;
using Dynamo.Router.Models;
using Dynamo.Router.Tests.Api;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Tests.Models;

public sealed class RouterModelTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("router-model-").FullName;

    [Fact]
    public async Task StartAsync_DefaultFileAppearsWhileWaiting_LoadsIt()
    {
        var model = Create(new RouterOptions { ModelDirectory = _directory, ModelWaitSeconds = 60 });

        var start = model.StartAsync(CancellationToken.None);
        Assert.False(start.IsCompleted);
        File.Copy(RouterCluster.ModelPath, Path.Combine(_directory, RouterModel.DefaultModelFile));
        await start.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(4096, model.Model.ContextLength);
        Assert.Equal("dynamo-default", model.Model.Name);
    }

    [Fact]
    public async Task StartAsync_DefaultFileNeverAppears_FailsNamingTheFileAndTheRemedy()
    {
        var model = Create(new RouterOptions { ModelDirectory = _directory, ModelWaitSeconds = 0 });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => model.StartAsync(CancellationToken.None));

        Assert.Contains(RouterModel.DefaultModelFile, error.Message, StringComparison.Ordinal);
        Assert.Contains("Router:ModelPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_TemplateThatDoesNotParse_FailsNamingTheFile()
    {
        var template = Path.Combine(_directory, "broken.jinja");
        await File.WriteAllTextAsync(template, "{% for m in messages %}{{ m.content }}");
        var model = Create(new RouterOptions { ModelPath = RouterCluster.ModelPath, ChatTemplatePath = template });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => model.StartAsync(CancellationToken.None));

        Assert.Contains(template, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_UnknownParserName_FailsAtStart()
    {
        var model = Create(new RouterOptions { ModelPath = RouterCluster.ModelPath, ToolCallParser = "no-such-parser" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => model.StartAsync(CancellationToken.None));

        Assert.Contains("no-such-parser", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ConfiguredTemplate_ReplacesTheGgufTemplate()
    {
        var template = Path.Combine(_directory, "plain.jinja");
        await File.WriteAllTextAsync(template, "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}");
        var model = Create(new RouterOptions { ModelPath = RouterCluster.ModelPath, ChatTemplatePath = template });

        await model.StartAsync(CancellationToken.None);

        Assert.Equal(await File.ReadAllTextAsync(template), model.Model.Template.Source);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static RouterModel Create(RouterOptions options) =>
        new(Options.Create(options), new Environment(), TimeProvider.System, NullLogger<RouterModel>.Instance);

    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Development";

        public string ApplicationName { get; set; } = "Dynamo.Router";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
