using System.Net.Sockets;
using Dynamo.AppHost.Control;
using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Publishing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.AppHost.Hosting;

/// <summary>
/// The built AppHost: either publishes the topology (<c>--publish</c>) or runs it locally until Ctrl+C / SIGTERM.
/// Start-up problems (bad options, a missing executable, a busy port) end it with one clear line and a non-zero exit code.
/// </summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly AppHostCommandLine _commandLine;

    internal DistributedApplication(WebApplication app, DistributedApplicationModel model, AppHostCommandLine commandLine)
    {
        _app = app;
        Model = model;
        _commandLine = commandLine;
    }

    public DistributedApplicationModel Model { get; }

    public IServiceProvider Services => _app.Services;

    public static IDistributedApplicationBuilder CreateBuilder(string[] args) => new DistributedApplicationBuilder(args);

    /// <summary>Runs until stopped; returns the process exit code.</summary>
    public async Task<int> RunAsync()
    {
        if (_commandLine.Error is not null)
        {
            return Fail(ExitCodes.InvalidOptions, _commandLine.Error);
        }

        if (_commandLine.ShowHelp)
        {
            Console.WriteLine(AppHostCommandLine.Usage);
            return ExitCodes.Success;
        }

        if (_commandLine.PublishDirectory is { } publishDirectory)
        {
            return Publish(publishDirectory);
        }

        AppHostOptions options;
        try
        {
            options = Services.GetRequiredService<IOptions<AppHostOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            return Fail(ExitCodes.InvalidOptions, string.Join(" ", ex.Failures));
        }
        catch (InvalidOperationException ex)
        {
            // The configuration binder's message names the key, e.g. "... value at 'AppHost:ControlPort' to type 'System.Int32'".
            return Fail(ExitCodes.InvalidOptions, ex.Message);
        }

        foreach (var executable in Model.Resources.OfType<ExecutableResource>())
        {
            if (ExecutableLocator.Resolve(executable, options) is null)
            {
                return Fail(ExitCodes.MissingExecutable, ExecutableLocator.DescribeMissing(executable, options));
            }
        }

        var control = Services.GetRequiredService<ControlEndpoint>();
        if (control.Reserve(options) is { } portError)
        {
            return Fail(ExitCodes.PortInUse, portError);
        }

        // Kestrel is created with the WebApplication, so the address is added now that the port is known.
        _app.Urls.Clear();
        _app.Urls.Add(control.Url);
        try
        {
            await _app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException ex) when (ex.InnerException is SocketException or null)
        {
            return Fail(ExitCodes.PortInUse, $"AppHost:ControlPort {control.Port} could not be bound on 127.0.0.1: {ex.Message}");
        }

        await _app.WaitForShutdownAsync().ConfigureAwait(false);
        return Services.GetRequiredService<ExitCodeHolder>().ExitCode;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private int Publish(string directory)
    {
        try
        {
            var written = new DeploymentPublisher(Model, RepositoryLayout.FindRoot()).Publish(Path.GetFullPath(directory));
            foreach (var file in written)
            {
                Console.WriteLine($"wrote {file}");
            }

            return ExitCodes.Success;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail(ExitCodes.PublishFailed, $"--publish {directory}: {ex.Message}");
        }
    }

    private static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine($"Dynamo.AppHost: error: {message}");
        return exitCode;
    }
}

/// <summary>Process exit codes, so scripts can tell start-up failures apart.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int OrchestrationFailed = 1;
    public const int InvalidOptions = 2;
    public const int MissingExecutable = 3;
    public const int PortInUse = 4;
    public const int BuildFailed = 5;
    public const int PublishFailed = 6;
}
