using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Dynamo.ServiceDefaults.Tests.Logging;

public sealed class ConsoleLoggingDefaultsTests
{
    private static IHost Build(string environment, Dictionary<string, string?>? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            EnvironmentName = environment,
            ApplicationName = "logging-test",
        });
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.AddServiceDefaults();
        return builder.Build();
    }

    [Fact]
    public void Development_SimpleSingleLineWithUtcTimestamps()
    {
        using var host = Build(Environments.Development);

        var console = host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        var simple = host.Services.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue;

        Assert.Equal(ConsoleFormatterNames.Simple, console.FormatterName);
        Assert.True(simple.SingleLine);
        Assert.True(simple.UseUtcTimestamp);
        Assert.True(simple.IncludeScopes);
        Assert.False(string.IsNullOrEmpty(simple.TimestampFormat));
    }

    [Fact]
    public void Production_JsonWithScopesAndTimestamps()
    {
        using var host = Build(Environments.Production);

        var console = host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        var json = host.Services.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue;

        Assert.Equal(ConsoleFormatterNames.Json, console.FormatterName);
        Assert.True(json.IncludeScopes);
        Assert.False(string.IsNullOrEmpty(json.TimestampFormat));
    }

    [Fact]
    public void Configuration_FormatterNameAndOptions_OverrideDefaults()
    {
        using var host = Build(Environments.Production, new()
        {
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:SingleLine"] = "false",
        });

        var console = host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        var simple = host.Services.GetRequiredService<IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue;

        Assert.Equal(ConsoleFormatterNames.Simple, console.FormatterName);
        Assert.False(simple.SingleLine);
    }

    [Fact]
    public void AnyEnvironment_TraceAndSpanIdsTracked()
    {
        using var host = Build(Environments.Production);

        var tracking = host.Services.GetRequiredService<IOptions<LoggerFactoryOptions>>().Value.ActivityTrackingOptions;

        Assert.True(tracking.HasFlag(ActivityTrackingOptions.TraceId));
        Assert.True(tracking.HasFlag(ActivityTrackingOptions.SpanId));
    }
}
