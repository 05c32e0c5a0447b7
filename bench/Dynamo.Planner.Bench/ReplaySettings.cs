using System.Globalization;
using Dynamo.TestSupport;

namespace Dynamo.Planner.Bench;

/// <summary>Options of <c>replay</c>; targets are in engine milliseconds and divided by the mocker's speed-up on the wall clock.</summary>
internal sealed record ReplaySettings
{
    public string Trace { get; init; } = Path.Combine(RepoPaths.Shared, "traces", "mooncake_synthetic_trace.jsonl");
    public double PhaseSeconds { get; init; } = 40;
    public double BaseRate { get; init; } = 4;
    public int MaxWorkers { get; init; } = 4;
    public double SpeedUp { get; init; } = 10;
    public double TtftMs { get; init; } = 1000;
    public double ItlMs { get; init; } = 60;
    public double IntervalSeconds { get; init; } = 5;
    public double LoadCheckSeconds { get; init; } = 1;
    public int TokenScale { get; init; } = 32;
    public int OutputScale { get; init; } = 4;
    public long KvCapacityBlocks { get; init; } = 4096;
    public string Configuration { get; init; } = "Release";

    /// <summary>Profile for the planner; null: measure the mocker in process with the workers' KV cache.</summary>
    public string? ProfilePath { get; init; }

    public int QueuedPerReplica { get; init; } = 4;
    public string Mode { get; init; } = "throughput";
    public IReadOnlyList<string> Runs { get; init; } = ["planner", "fixed-same", "fixed-max"];

    /// <summary>Rate multipliers of the base rate and their seconds; null: ×0.5, ×2, ×0.5 of <see cref="PhaseSeconds"/> each.</summary>
    public IReadOnlyList<(double Multiplier, double Seconds)>? CustomPhases { get; init; }

    /// <summary><c>trace</c>: the trace's own relative gaps (bursty inside a phase); <c>uniform</c>: even gaps, so a phase change is the only step.</summary>
    public string Arrivals { get; init; } = "trace";

    /// <summary><c>cold</c>: a scale-up starts a new worker process; <c>warm</c>: it resumes a pre-started, warmed, parked spare after the start delay.</summary>
    public string ScaleUp { get; init; } = "cold";

    /// <summary>Parked spares prepared before a planner run (warm scale-ups); once they are used up, scale-ups start cold.</summary>
    public int? WarmSpares { get; init; }

    /// <summary>Seconds from a warm scale-up's decision to the spare resuming; null: the cold start measured at the row's start.</summary>
    public double? StartDelaySeconds { get; init; }

    public IReadOnlyList<(double Multiplier, double Seconds)> Phases =>
        CustomPhases ?? [(0.5, PhaseSeconds), (2, PhaseSeconds), (0.5, PhaseSeconds)];

    public double TotalSeconds => Phases.Sum(p => p.Seconds);

    /// <summary>Seconds into the replay where the first rise in the rate multiplier begins (the burst); null when none rises.</summary>
    public double? BurstStartSeconds
    {
        get
        {
            var at = 0.0;
            for (var i = 0; i < Phases.Count; i++)
            {
                if (i > 0 && Phases[i].Multiplier > Phases[i - 1].Multiplier)
                {
                    return at;
                }

                at += Phases[i].Seconds;
            }

            return null;
        }
    }

    public string PhasesText => string.Join(" → ", Phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"×{p.Multiplier:0.##} for {p.Seconds:0} s")));

    /// <summary>KV block size of the workers: one 512-token trace block becomes 512 / token-scale prompt tokens, one KV block.</summary>
    public int BlockSize => Math.Max(1, 512 / TokenScale);

    public double TtftWallMs => TtftMs / SpeedUp;

    public double ItlWallMs => ItlMs / SpeedUp;

    public static ReplaySettings Parse(string[] args)
    {
        var s = new ReplaySettings();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            double D() => double.Parse(value, CultureInfo.InvariantCulture);
            int I() => int.Parse(value, CultureInfo.InvariantCulture);
            s = args[i] switch
            {
                "--trace" => s with { Trace = value },
                "--phase-seconds" => s with { PhaseSeconds = D() },
                "--base-rate" => s with { BaseRate = D() },
                "--max-workers" => s with { MaxWorkers = I() },
                "--speed-up" => s with { SpeedUp = D() },
                "--ttft-ms" => s with { TtftMs = D() },
                "--itl-ms" => s with { ItlMs = D() },
                "--interval" => s with { IntervalSeconds = D() },
                "--load-check" => s with { LoadCheckSeconds = D() },
                "--token-scale" => s with { TokenScale = I() },
                "--output-scale" => s with { OutputScale = I() },
                "--kv-blocks" => s with { KvCapacityBlocks = I() },
                "--configuration" => s with { Configuration = value },
                "--profile" => s with { ProfilePath = value },
                "--queued-per-replica" => s with { QueuedPerReplica = I() },
                "--mode" => s with { Mode = value },
                "--phases" => s with { CustomPhases = ParsePhases(value) },
                "--arrivals" => s with { Arrivals = value is "trace" or "uniform" ? value : throw new ArgumentException($"--arrivals is trace or uniform, not '{value}'.") },
                "--scale-up" => s with { ScaleUp = value is "cold" or "warm" ? value : throw new ArgumentException($"--scale-up is cold or warm, not '{value}'.") },
                "--warm-spares" => s with { WarmSpares = I() },
                "--start-delay" => s with { StartDelaySeconds = value == "measured" ? null : D() },
                "--runs" => s with { Runs = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        return s;
    }

    /// <summary><c>0.5:30,4:60</c>: ×0.5 of the base rate for 30 s, then ×4 for 60 s.</summary>
    private static List<(double, double)> ParsePhases(string value)
    {
        var phases = new List<(double, double)>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':');
            if (pieces.Length != 2
                || !double.TryParse(pieces[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var multiplier) || multiplier <= 0
                || !double.TryParse(pieces[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
            {
                throw new ArgumentException($"--phases takes multiplier:seconds pairs with positive numbers, e.g. 0.5:30,4:60; '{part}' is not one.");
            }

            phases.Add((multiplier, seconds));
        }

        return phases.Count > 0 ? phases : throw new ArgumentException("--phases needs at least one multiplier:seconds pair.");
    }
}
