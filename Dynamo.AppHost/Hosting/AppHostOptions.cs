using Microsoft.Extensions.Options;

namespace Dynamo.AppHost.Hosting;

/// <summary>Settings of the AppHost itself (section <c>AppHost</c>; command-line switches map onto it).</summary>
public sealed class AppHostOptions
{
    public const string SectionName = "AppHost";

    /// <summary>Seconds a child gets between SIGTERM and SIGKILL.</summary>
    public int GracePeriodSeconds { get; set; } = 10;

    /// <summary>Loopback port of the control API; 0 picks a free one.</summary>
    public int ControlPort { get; set; }

    /// <summary>Seconds a replica may take to report healthy before it is restarted.</summary>
    public int HealthTimeoutSeconds { get; set; } = 120;

    /// <summary>First restart delay after a crash; doubles per consecutive crash.</summary>
    public int RestartBaseDelayMilliseconds { get; set; } = 500;

    /// <summary>Upper bound of the restart back-off.</summary>
    public int RestartMaxDelaySeconds { get; set; } = 30;

    /// <summary>Skip the one <c>dotnet build</c> at start-up (the outputs must exist).</summary>
    public bool NoBuild { get; set; }

    /// <summary>Build configuration of the projects; defaults to the AppHost's own.</summary>
    public string Configuration { get; set; } = Projects.BuildInfo.Configuration;

    /// <summary>Where <c>endpoints.json</c> and the per-run folders live; defaults to <c>&lt;repo&gt;/.dynamo</c>.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>OTLP endpoint passed to every project; defaults to the AppHost's OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>ASPNETCORE_ENVIRONMENT / DOTNET_ENVIRONMENT of the projects.</summary>
    public string Environment { get; set; } = "Development";

    /// <summary>Explicit executable per resource name (e.g. <c>AppHost:ExecutablePaths:nats</c>), instead of a PATH lookup.</summary>
    public Dictionary<string, string> ExecutablePaths { get; set; } = new(StringComparer.Ordinal);
}

internal sealed class AppHostOptionsValidator : IValidateOptions<AppHostOptions>
{
    public const int MaxGracePeriodSeconds = 300;

    public ValidateOptionsResult Validate(string? name, AppHostOptions options)
    {
        var failures = new List<string>();
        Range(failures, nameof(AppHostOptions.GracePeriodSeconds), options.GracePeriodSeconds, 1, MaxGracePeriodSeconds);
        Range(failures, nameof(AppHostOptions.ControlPort), options.ControlPort, 0, 65535);
        Range(failures, nameof(AppHostOptions.HealthTimeoutSeconds), options.HealthTimeoutSeconds, 1, 3600);
        Range(failures, nameof(AppHostOptions.RestartBaseDelayMilliseconds), options.RestartBaseDelayMilliseconds, 10, 60_000);
        Range(failures, nameof(AppHostOptions.RestartMaxDelaySeconds), options.RestartMaxDelaySeconds, 1, 3600);
        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            failures.Add($"{Key(nameof(AppHostOptions.Configuration))} must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.Environment))
        {
            failures.Add($"{Key(nameof(AppHostOptions.Environment))} must not be empty.");
        }

        if (!string.IsNullOrEmpty(options.OtlpEndpoint)
            && (!Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var otlp) || otlp.Scheme is not ("http" or "https")))
        {
            failures.Add($"{Key(nameof(AppHostOptions.OtlpEndpoint))} must be an absolute http(s) URL (was '{options.OtlpEndpoint}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Key(string property) => $"{AppHostOptions.SectionName}:{property}";

    private static void Range(List<string> failures, string property, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{Key(property)} must be between {min} and {max} (was {value}).");
        }
    }
}
