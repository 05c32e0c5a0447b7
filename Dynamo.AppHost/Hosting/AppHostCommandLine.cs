namespace Dynamo.AppHost.Hosting;

/// <summary>
/// The AppHost's command line: a few friendly switches mapped onto the <c>AppHost</c> configuration section,
/// plus <c>--Section:Key=value</c> pairs passed to configuration as they are.
/// </summary>
internal sealed record AppHostCommandLine(
    string? PublishDirectory,
    bool ShowHelp,
    IReadOnlyDictionary<string, string?> Settings,
    IReadOnlyList<string> ConfigurationArguments,
    string? Error)
{
    public const string Usage = """
        Usage: Dynamo.AppHost [options] [--AppHost:Key=value ...]
          --publish <dir>          write aspire-manifest.json, Kubernetes manifests and Dockerfiles, then exit
          --no-build               do not run `dotnet build` before starting the projects
          --disaggregated          serve with a prefill-worker and a decode-worker (AppHost:Topology=disaggregated)
          -c, --configuration <c>  build configuration of the projects (default: the AppHost's)
          --control-port <port>    loopback port of the control API (0 = free port)
          --grace-period <s>       seconds between SIGTERM and SIGKILL when stopping a child
          --state-dir <dir>        folder for endpoints.json and per-run data (default: <repo>/.dynamo)
          -h, --help               show this text
        """;

    private static readonly Dictionary<string, string> s_valueSwitches = new(StringComparer.Ordinal)
    {
        ["--configuration"] = "AppHost:Configuration",
        ["-c"] = "AppHost:Configuration",
        ["--control-port"] = "AppHost:ControlPort",
        ["--grace-period"] = "AppHost:GracePeriodSeconds",
        ["--state-dir"] = "AppHost:StateDirectory",
    };

    public static AppHostCommandLine Parse(IReadOnlyList<string> args)
    {
        string? publish = null;
        var help = false;
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var configurationArgs = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                help = true;
            }
            else if (arg == "--no-build")
            {
                settings["AppHost:NoBuild"] = "true";
            }
            else if (arg == "--disaggregated")
            {
                settings[ServingTopology.Key] = ServingTopology.DisaggregatedName;
            }
            else if (arg == "--publish" || s_valueSwitches.ContainsKey(arg))
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith('-'))
                {
                    return Failed($"option {arg} needs a value.");
                }

                var value = args[++i];
                if (arg == "--publish")
                {
                    publish = value;
                }
                else
                {
                    settings[s_valueSwitches[arg]] = value;
                }
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains(':', StringComparison.Ordinal))
            {
                // Configuration keys (--AppHost:GracePeriodSeconds=5 or --Logging:LogLevel:Default Debug).
                configurationArgs.Add(arg);
                if (!arg.Contains('=', StringComparison.Ordinal) && i + 1 < args.Count)
                {
                    configurationArgs.Add(args[++i]);
                }
            }
            else
            {
                return Failed($"unknown option '{arg}'. Run with --help for the options.");
            }
        }

        return new AppHostCommandLine(publish, help, settings, configurationArgs, null);
    }

    private static AppHostCommandLine Failed(string error) => new(null, false, new Dictionary<string, string?>(), [], error);
}
