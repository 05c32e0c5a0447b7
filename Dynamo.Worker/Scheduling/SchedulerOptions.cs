using System.ComponentModel.DataAnnotations;

namespace Dynamo.Worker.Scheduling;

/// <summary>Continuous-batching limits (defaults from DESIGN.md §6, as in Dynamo's mocker and vLLM).</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Worker:Scheduler";

    /// <summary>Most sequences in one step.</summary>
    [Range(1, 65_536)]
    public int MaxNumSeqs { get; set; } = 256;

    /// <summary>Most tokens (prefill chunks plus one per decoding sequence) in one step.</summary>
    [Range(1, 1_048_576)]
    public int MaxNumBatchedTokens { get; set; } = 8_192;

    /// <summary>Requests that may wait for admission before new ones are refused with 503.</summary>
    [Range(1, 1_000_000)]
    public int WaitingCapacity { get; set; } = 1_024;

    /// <summary>What a refused caller is told to wait before retrying.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}
