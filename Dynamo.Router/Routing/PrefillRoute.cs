using System.Globalization;

namespace Dynamo.Router.Routing;

/// <summary>
/// Where a decode worker's prompt was computed in disaggregated serving: on a prefill worker (<see cref="Remote"/>,
/// which pushed the KV to the decode worker) or on the decode worker itself, and why. Part of the request's
/// <see cref="RoutingDecision"/>, so it shows in the <c>x-dynamo-routing</c> header and on the trace span.
/// </summary>
/// <param name="WorkerId">The prefill worker, or null when the decode worker prefills locally.</param>
/// <param name="OverlapBlocks">Prompt blocks the prefill worker already cached (remote only).</param>
/// <param name="Cost">The prefill worker's kv_aware cost (remote only, when the policy computes one).</param>
public sealed record PrefillRoute(string? WorkerId, int OverlapBlocks, double? Cost, string Reason)
{
    public const string RemoteMode = "remote";

    public const string LocalMode = "local";

    public bool Remote => WorkerId is not null;

    public string Mode => Remote ? RemoteMode : LocalMode;

    public static PrefillRoute Local(string reason) => new(null, 0, null, reason);

    /// <summary>The fields of the <c>x-dynamo-routing</c> header; "; " in the reason becomes ", " so the fields stay separable.</summary>
    public string ToHeaderValue() => string.Create(
        CultureInfo.InvariantCulture,
        $"prefill={Mode}; prefill_worker={WorkerId ?? "-"}; prefill_overlap={OverlapBlocks}; prefill_cost={(Cost is { } c ? c.ToString("0.###", CultureInfo.InvariantCulture) : "-")}; prefill_reason={Reason.Replace("; ", ", ", StringComparison.Ordinal)}");

    public IEnumerable<KeyValuePair<string, object?>> ToTags()
    {
        yield return new("dynamo.routing.prefill_mode", Mode);
        yield return new("dynamo.routing.prefill_worker", WorkerId);
        yield return new("dynamo.routing.prefill_overlap_blocks", OverlapBlocks);
        yield return new("dynamo.routing.prefill_cost", Cost);
        yield return new("dynamo.routing.prefill_reason", Reason);
    }
}
