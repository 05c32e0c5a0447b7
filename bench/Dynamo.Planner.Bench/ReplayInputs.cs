using Dynamo.Planner.Profiling;
using Dynamo.Replay;

namespace Dynamo.Planner.Bench;

/// <summary>What a <c>replay</c> feeds its runs: the request schedule and the planner's profile.</summary>
internal static class ReplayInputs
{
    /// <summary>
    /// Arrivals at base × each phase's multiplier, in the trace's order. With <c>--arrivals trace</c> the gaps keep the
    /// trace's own relative gaps (so each phase is itself bursty); with <c>uniform</c> they are even, so the phase
    /// changes are the only steps in the rate.
    /// </summary>
    public static List<(TraceRequest Trace, ReplayPrompt Prompt)> Schedule(ReplaySettings s)
    {
        var trace = TraceReader.Read(s.Trace, 100_000);
        var meanGap = (trace[^1].TimestampMs - trace[0].TimestampMs) / (double)(trace.Count - 1);
        var builder = new PromptBuilder(s.TokenScale, s.OutputScale, 4096, 32_000);
        var schedule = new List<(TraceRequest Trace, ReplayPrompt Prompt)>();
        var t = 0.0;
        for (var i = 0; i < trace.Count && t < s.TotalSeconds; i++)
        {
            schedule.Add((trace[i] with { TimestampMs = (long)(t * 1000) }, builder.Build(trace[i])));
            var gap = s.Arrivals == "uniform" || i + 1 >= trace.Count ? 1 : (trace[i + 1].TimestampMs - trace[i].TimestampMs) / meanGap;
            t += gap / (s.BaseRate * MultiplierAt(s, t));
        }

        return schedule;
    }

    /// <summary>
    /// The profile the planner gets: <c>--profile PATH</c> as it is, or else the mocker measured in process with the
    /// workers' own KV cache (blocks × block size; the mocker's step time depends on the share of it in use) at the
    /// bench's speed-up. Times are divided by the speed-up, as the sped-up workers run on the wall clock. Being measured
    /// in process, it holds no HTTP, streaming or router overhead: the planner's correction factors learn those.
    /// </summary>
    public static async Task<EngineProfile> PlannerProfileAsync(ReplaySettings s)
    {
        EngineProfile profile;
        if (s.ProfilePath is { } path)
        {
            profile = EngineProfile.Load(path);
        }
        else
        {
            using var stack = EngineStack.Mocker(s.SpeedUp, (int)s.KvCapacityBlocks, s.BlockSize);
            profile = await ProfileCommand.MeasureAsync(stack, "mocker", _ => { });
        }

        Console.WriteLine($"planner profile: {profile.Description}, {profile.KvCapacityTokens} KV tokens; times ÷ {s.SpeedUp}");
        return profile with
        {
            Description = $"{profile.Description}; times ÷ {s.SpeedUp} (bench speed-up)",
            Prefill = [.. profile.Prefill.Select(p => p with { Milliseconds = p.Milliseconds / s.SpeedUp })],
            Decode = [.. profile.Decode.Select(p => p with { StepMilliseconds = p.StepMilliseconds / s.SpeedUp })],
        };
    }

    private static double MultiplierAt(ReplaySettings s, double t)
    {
        var end = 0.0;
        foreach (var (multiplier, seconds) in s.Phases)
        {
            end += seconds;
            if (t < end)
            {
                return multiplier;
            }
        }

        return s.Phases[^1].Multiplier;
    }
}
