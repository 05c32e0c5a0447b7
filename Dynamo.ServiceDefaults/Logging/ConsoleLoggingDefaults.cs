using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Dynamo.ServiceDefaults.Logging;

/// <summary>
/// Console output people and log collectors can use: one line per entry with a UTC timestamp in
/// Development, JSON elsewhere; trace and span ids ride along as scopes so a log line finds its trace.
/// <c>Logging:Console:FormatterName</c> and <c>Logging:Console:FormatterOptions</c> still override.
/// </summary>
internal static class ConsoleLoggingDefaults
{
    private const string FormatterOptionsSection = "Logging:Console:FormatterOptions";

    public static void Configure(IHostApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Logging.AddConsole();
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        // Only fills the gap: a FormatterName from configuration (bound by AddConsole) wins.
        builder.Services.Configure<ConsoleLoggerOptions>(o =>
            o.FormatterName ??= development ? ConsoleFormatterNames.Simple : ConsoleFormatterNames.Json);

        var formatterSection = builder.Configuration.GetSection(FormatterOptionsSection);
        builder.Services.Configure<SimpleConsoleFormatterOptions>(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

        // Registered after the defaults above so configured values override them.
        builder.Services.Configure<SimpleConsoleFormatterOptions>(formatterSection);
        builder.Services.Configure<JsonConsoleFormatterOptions>(formatterSection);
    }
}
