using Dynamo.Router.Routing;

namespace Dynamo.Router.Tests.Routing;

public sealed class PrefillRouteTests
{
    [Fact]
    public void ToHeaderValue_RemotePrefill_NamesBothWorkersAndKeepsTheDecodeReasonLast()
    {
        var decision = new RoutingDecision("decode-1", "kv_aware", 5, 2, 0, 0, 7.5, "lowest cost; tie")
        {
            Prefill = new PrefillRoute("prefill-1", 3, 4.25, "uncached 40 > 0 tokens; lowest cost"),
        };

        var header = decision.ToHeaderValue();

        Assert.Equal(
            "worker=decode-1; policy=kv_aware; overlap=2/5; host=0; disk=0; cost=7.5; prefill=remote; prefill_worker=prefill-1; prefill_overlap=3; prefill_cost=4.25; prefill_reason=uncached 40 > 0 tokens, lowest cost; reason=lowest cost; tie",
            header);
        var tags = decision.ToTags().ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("prefill-1", tags["dynamo.routing.prefill_worker"]);
        Assert.Equal("remote", tags["dynamo.routing.prefill_mode"]);
    }

    [Fact]
    public void ToHeaderValue_LocalPrefill_SaysLocalWithItsReason()
    {
        var decision = new RoutingDecision("decode-1", "kv_aware", 5, 0, 0, 0, null, "lowest cost") { Prefill = PrefillRoute.Local("no prefill worker") };

        Assert.Contains("prefill=local; prefill_worker=-; prefill_overlap=0; prefill_cost=-; prefill_reason=no prefill worker; reason=lowest cost", decision.ToHeaderValue(), StringComparison.Ordinal);
        Assert.False(decision.Prefill!.Remote);
    }

    [Fact]
    public void ToHeaderValue_AggregatedWorker_HasNoPrefillFields()
    {
        var decision = new RoutingDecision("w", "kv_aware", 5, 0, 0, 0, 1, "lowest cost");

        Assert.DoesNotContain("prefill", decision.ToHeaderValue(), StringComparison.Ordinal);
    }
}
