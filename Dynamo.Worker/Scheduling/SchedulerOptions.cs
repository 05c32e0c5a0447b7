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

    /// <summary>
    /// What preemption does when KV blocks run out. Swap (the default) copies the victim's K/V to host swap space
    /// (<c>Worker:KvCache:SwapSpaceGb</c>) and restores it on resume: the native engine's pool is host memory, so a
    /// swap is a memcpy at GB/s while a recompute re-prefills prompt and output on the CPU, orders of magnitude
    /// slower. Recompute frees the blocks and prefills again (what vLLM V1 does on GPUs); also the fallback when
    /// the swap space is full.
    /// </summary>
    public PreemptionMode Preemption { get; set; } = PreemptionMode.Swap;

    /// <summary>What a refused caller is told to wait before retrying.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>How a preempted sequence gets its K/V back.</summary>
public enum PreemptionMode
{
    /// <summary>Free the blocks; prefill prompt and generated tokens again on resume (cached prefixes still hit).</summary>
    Recompute,

    /// <summary>Copy the blocks to host swap space and restore them on resume.</summary>
    Swap,
}
