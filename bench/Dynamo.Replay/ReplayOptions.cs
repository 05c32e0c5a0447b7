using System.Globalization;
using Dynamo.TestSupport;

namespace Dynamo.Replay;

/// <summary>Command-line options (see README.md); unknown or invalid options stop the run with a message.</summary>
public sealed class ReplayOptions
{
    public static readonly string[] KnownPolicies = ["kv_aware", "round_robin", "random", "least_loaded"];

    public string Trace { get; private set; } = Path.Combine(RepoPaths.Shared, "traces", "mooncake_synthetic_trace.jsonl");
    public IReadOnlyList<string> Policies { get; private set; } = KnownPolicies;
    public int Workers { get; private set; } = 4;
    public int Requests { get; private set; } = 200;

    /// <summary>Trace requests skipped before the replayed window starts (<c>--skip</c>), so any window can be replayed.</summary>
    public int Skip { get; private set; }

    public double MaxSeconds { get; private set; } = 120;

    /// <summary>How long requests still streaming after the last send may take before they are cancelled and counted as failed.</summary>
    public double DrainSeconds { get; private set; } = 300;
    /// <summary>Arrival speed-ups to sweep (<c>--time-scale 2,4,8</c>); every entry runs every configuration.</summary>
    public IReadOnlyList<double> TimeScales { get; private set; } = [1];

    /// <summary>SLA for goodput: a request counts when TTFT (from its scheduled arrival) and its mean ITL are both within target.</summary>
    public double SlaTtftMs { get; private set; } = 1000;

    public double SlaItlMs { get; private set; } = 50;
    public int Concurrency { get; private set; } = 32;
    public int TokenScale { get; private set; } = 32;
    public int OutputScale { get; private set; } = 1;
    public int MaxContext { get; private set; } = 4096;
    public double SpeedUp { get; private set; } = 20;
    public long KvCapacityBlocks { get; private set; } = 4096;
    public string Model { get; private set; } = "dynamo-default";
    public string ModelPath { get; private set; } = Path.Combine(RepoPaths.Root, "models", "generated", "dynamo-default-q8_0.gguf");
    public string Configuration { get; private set; } = "Release";
    public int VocabSize { get; private set; } = 32_000;

    /// <summary>
    /// Disaggregated runs: for each entry P &gt; 0, P of the <see cref="Workers"/> are prefill workers and the rest
    /// decode workers (equal worker count); 0 is the aggregated run. Each policy runs once per entry.
    /// </summary>
    public IReadOnlyList<int> PrefillWorkers { get; private set; } = [0];

    /// <summary>The router's <c>Router:Disaggregation:MaxLocalPrefillTokens</c>; null keeps its default.</summary>
    public int? MaxLocalPrefillTokens { get; private set; }

    /// <summary>Explicit builds to run instead of this checkout's (e.g. a router built from another branch).</summary>
    public string? WorkerDll { get; private set; }

    public string? RouterDll { get; private set; }

    public int BlockSize => TraceReader.TraceBlockTokens / TokenScale;

    /// <exception cref="ArgumentException">An option is unknown, lacks a value, or is out of range.</exception>
    public static ReplayOptions Parse(string[] args)
    {
        var o = new ReplayOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{name} needs a value.");
            }

            var value = args[++i];
            switch (name)
            {
                case "--trace": o.Trace = value; break;
                case "--policies": o.Policies = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--workers": o.Workers = Int(name, value, 1, 256); break;
                case "--requests": o.Requests = Int(name, value, 1, 10_000_000); break;
                case "--skip": o.Skip = Int(name, value, 0, 10_000_000); break;
                case "--max-seconds": o.MaxSeconds = Double(name, value, 1, 86_400); break;
                case "--drain-seconds": o.DrainSeconds = Double(name, value, 1, 86_400); break;
                case "--time-scale" or "--rate": o.TimeScales = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Double(name, v, 1e-3, 1e6))]; break;
                case "--sla-ttft-ms": o.SlaTtftMs = Double(name, value, 1e-3, 1e9); break;
                case "--sla-itl-ms": o.SlaItlMs = Double(name, value, 1e-3, 1e9); break;
                case "--concurrency": o.Concurrency = Int(name, value, 1, 100_000); break;
                case "--token-scale": o.TokenScale = Int(name, value, 1, 512); break;
                case "--output-scale": o.OutputScale = Int(name, value, 1, 100_000); break;
                case "--max-context": o.MaxContext = Int(name, value, 2, 1_000_000); break;
                case "--speed-up": o.SpeedUp = Double(name, value, 1e-3, 1e12); break;
                case "--kv-blocks": o.KvCapacityBlocks = Int(name, value, 1, 100_000_000); break;
                case "--model": o.Model = value; break;
                case "--model-path": o.ModelPath = Path.GetFullPath(value); break;
                case "--configuration": o.Configuration = value; break;
                case "--worker-dll": o.WorkerDll = Path.GetFullPath(value); break;
                case "--router-dll": o.RouterDll = Path.GetFullPath(value); break;
                case "--vocab-size": o.VocabSize = Int(name, value, 1_000, 1_048_576); break;
                case "--prefill-workers": o.PrefillWorkers = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Int(name, v, 0, 255))]; break;
                case "--max-local-prefill": o.MaxLocalPrefillTokens = Int(name, value, 0, 10_000_000); break;
                default: throw new ArgumentException($"Unknown option {name}; see bench/Dynamo.Replay/README.md.");
            }
        }

        if (TraceReader.TraceBlockTokens % o.TokenScale != 0)
        {
            throw new ArgumentException($"--token-scale must divide {TraceReader.TraceBlockTokens} so a trace block maps to whole KV blocks.");
        }

        if (o.TimeScales.Count == 0)
        {
            throw new ArgumentException("--time-scale needs at least one value.");
        }

        if (o.PrefillWorkers.Count == 0 || o.PrefillWorkers.Any(p => p >= o.Workers))
        {
            throw new ArgumentException($"--prefill-workers: each entry must be below --workers ({o.Workers}), so at least one decode worker remains.");
        }

        var unknown = o.Policies.Except(KnownPolicies).ToArray();
        if (o.Policies.Count == 0 || unknown.Length > 0)
        {
            throw new ArgumentException($"--policies: unknown policy {string.Join(", ", unknown)}; known: {string.Join(", ", KnownPolicies)}.");
        }

        if (!File.Exists(o.ModelPath))
        {
            throw new ArgumentException($"Model file not found: {o.ModelPath} (run a worker once to generate it, or pass --model-path).");
        }

        return o;
    }

    private static int Int(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} must be an integer in [{min}, {max}], got '{value}'.");

    private static double Double(string name, string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} must be a number in [{min}, {max}], got '{value}'.");
}
