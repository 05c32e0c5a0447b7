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
                "--runs" => s with { Runs = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        return s;
    }
}
