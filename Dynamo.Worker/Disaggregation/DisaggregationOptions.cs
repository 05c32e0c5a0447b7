using System.ComponentModel.DataAnnotations;

namespace Dynamo.Worker.Disaggregation;

/// <summary>Prefill→decode KV transfer settings (section <c>Worker:Disaggregation</c>).</summary>
public sealed class DisaggregationOptions
{
    public const string Section = "Worker:Disaggregation";

    /// <summary>
    /// How long a decode request waits for its KV (from its arrival) before recomputing what is missing; also how
    /// long a transfer that arrived before its decode request is kept (twice this). A request's
    /// <c>kv_transfer.timeout_ms</c> overrides it.
    /// </summary>
    [Range(1, 3_600_000)]
    public int TransferTimeoutMs { get; set; } = 30_000;

    /// <summary>
    /// Host memory for KV bytes in flight, on both sides (blocks exported and not yet sent, blocks received and not
    /// yet imported). A transfer that does not fit is refused at once and the decode worker recomputes. The default
    /// holds a 16k-token prompt of the default model (256 KiB per 16-token block) eight times over.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MaxBufferedBytes { get; set; } = 2L << 30;

    /// <summary>Connect timeout towards a decode worker; an unreachable one fails the push quickly.</summary>
    [Range(1, 600_000)]
    public int ConnectTimeoutMs { get; set; } = 5_000;

    /// <summary>The mocker's simulated KV bytes per token (Llama-3-8B in FP16: 32 layers × 8 KV heads × 128 × 2 × 2 bytes).</summary>
    [Range(1, long.MaxValue)]
    public long MockerKvBytesPerToken { get; set; } = 131_072;

    /// <summary>The mocker's simulated link speed for <c>kv_transfer_ms = ISL · bytes_per_token / bandwidth</c> (DESIGN.md §6).</summary>
    [Range(1e-6, 1e6)]
    public double MockerTransferGBps { get; set; } = 64;
}
