using Dynamo.Runtime.EventPlane;

namespace Dynamo.Runtime.Tests.EventPlane;

public sealed class SubjectsTests
{
    [Fact]
    public void Subjects_Namespace_PrefixesEverySubject()
    {
        Assert.Equal("dynamo.prod.kv.events.w-1", Subjects.KvEvents("prod", "w-1"));
        Assert.Equal("dynamo.prod.kv.events.*", Subjects.AllKvEvents("prod"));
        Assert.Equal("dynamo.prod.kv.dump.w-1", Subjects.KvDump("prod", "w-1"));
        Assert.Equal("dynamo.prod.metrics.w-1", Subjects.Metrics("prod", "w-1"));
        Assert.Equal("dynamo.prod.metrics.*", Subjects.AllMetrics("prod"));
        Assert.Equal("dynamo.prod.planner.decisions", Subjects.PlannerDecisions("prod"));
        Assert.Equal("dynamo.prod.sla.changed", Subjects.SlaChanged("prod"));
        Assert.Equal("dynamo.prod.models.changed", Subjects.ModelsChanged("prod"));
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("a*")]
    [InlineData("a>")]
    [InlineData("a b")]
    [InlineData("")]
    public void KvEvents_WorkerIdThatBreaksSubject_Throws(string workerId)
    {
        Assert.ThrowsAny<ArgumentException>(() => Subjects.KvEvents("prod", workerId));
    }

    [Fact]
    public void Metrics_NamespaceWithDot_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => Subjects.Metrics("a.b", "w"));

        Assert.Contains("namespace", error.Message, StringComparison.Ordinal);
    }
}
