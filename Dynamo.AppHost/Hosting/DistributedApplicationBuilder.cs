using System.Text.RegularExpressions;
using Dynamo.AppHost.Control;
using Dynamo.AppHost.Orchestration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dynamo.AppHost.Hosting;

internal sealed partial class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    private readonly WebApplicationBuilder _web;
    private readonly AppHostCommandLine _commandLine;
    private readonly List<IResource> _resources = [];

    public DistributedApplicationBuilder(string[] args)
    {
        _commandLine = AppHostCommandLine.Parse(args);
        _web = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [.. _commandLine.ConfigurationArguments],
            ContentRootPath = AppContext.BaseDirectory,
        });
        _web.Configuration.AddInMemoryCollection(_commandLine.Settings);
        _web.Logging.AddFilter("Microsoft", LogLevel.Warning);
        _web.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
    }

    public ConfigurationManager Configuration => _web.Configuration;

    public IServiceCollection Services => _web.Services;

    public IReadOnlyList<IResource> Resources => _resources;

    public IResourceBuilder<T> AddResource<T>(T resource)
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (!ValidName().IsMatch(resource.Name))
        {
            throw new ArgumentException(
                $"Resource name '{resource.Name}' is invalid: use lowercase letters, digits and '-', starting with a letter, at most 63 characters (it becomes a DNS name when deployed).",
                nameof(resource));
        }

        if (resource.Name == ControlApi.ServiceName || _resources.Any(r => r.Name == resource.Name))
        {
            throw new ArgumentException($"A resource named '{resource.Name}' already exists.", nameof(resource));
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(resource, this);
    }

    public DistributedApplication Build()
    {
        var model = new DistributedApplicationModel([.. _resources]);
        var services = _web.Services;
        services.AddSingleton(model);
        services.AddOptions<AppHostOptions>()
            .BindConfiguration(AppHostOptions.SectionName)
            .PostConfigure<IConfiguration>((options, configuration) =>
                options.OtlpEndpoint ??= configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 } otlp ? otlp : null)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AppHostOptions>, AppHostOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        // The orchestrator bounds each child's stop by the grace period itself; the host must never cut that short,
        // so its limit covers the largest grace period twice (projects, then servers) plus slack.
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2 * AppHostOptionsValidator.MaxGracePeriodSeconds + 15));
        services.AddSingleton<IHostLifetime, AppHostLifetime>();
        services.AddSingleton<RunContext>();
        services.AddSingleton<ControlEndpoint>();
        services.AddOrchestration();
        services.AddSingleton(_commandLine);

        var app = _web.Build();
        app.MapControlApi();
        return new DistributedApplication(app, model, _commandLine);
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex ValidName();
}
