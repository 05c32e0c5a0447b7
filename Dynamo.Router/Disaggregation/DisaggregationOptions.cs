using System.ComponentModel.DataAnnotations;

namespace Dynamo.Router.Disaggregation;

/// <summary>
/// When a request served by a decode worker has its prompt computed by a prefill worker (section
/// <c>Router:Disaggregation</c>). Conditional disaggregation as Dynamo does it: a remote prefill costs a transfer and
/// a second hop, which pays only when the decode worker would otherwise spend long on the prompt.
/// </summary>
public sealed class DisaggregationOptions
{
    public const string Section = "Router:Disaggregation";

    /// <summary>False: decode workers always prefill themselves, even when prefill workers are registered.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Prompts whose uncached part (on the chosen decode worker) is at most this many tokens are prefilled on the
    /// decode worker. 1000 is Dynamo's default <c>max_local_prefill_length</c>.
    /// </summary>
    [Range(0, 10_000_000, ErrorMessage = "Router:Disaggregation:MaxLocalPrefillTokens must be between 0 and 10000000.")]
    public int MaxLocalPrefillTokens { get; set; } = 1000;

    /// <summary>
    /// When the decode worker already caches at least this fraction of the prompt, it prefills the rest itself:
    /// moving the whole prompt's KV over the wire to save a small recompute is a loss.
    /// </summary>
    [Range(0.0, 1.0, ErrorMessage = "Router:Disaggregation:LocalPrefillCachedFraction must be between 0 and 1.")]
    public double LocalPrefillCachedFraction { get; set; } = 0.9;

    /// <summary>How long the decode worker waits for the pushed KV before recomputing; null → the worker's own default.</summary>
    [Range(1, 3_600_000, ErrorMessage = "Router:Disaggregation:TransferTimeoutMs must be between 1 and 3600000.")]
    public int? TransferTimeoutMs { get; set; }

    /// <summary>Time allowed for telling a decode worker that its transfer is abandoned (best effort).</summary>
    [Range(1, 600_000, ErrorMessage = "Router:Disaggregation:AbandonTimeoutMs must be between 1 and 600000.")]
    public int AbandonTimeoutMs { get; set; } = 5000;
}
