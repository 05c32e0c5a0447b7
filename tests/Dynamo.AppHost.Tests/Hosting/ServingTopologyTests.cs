using Dynamo.AppHost.Hosting;
using Microsoft.Extensions.Configuration;

namespace Dynamo.AppHost.Tests.Hosting;

public sealed class ServingTopologyTests
{
    [Fact]
    public void Read_NothingConfigured_IsAggregated()
    {
        var topology = ServingTopology.Read(new ConfigurationBuilder().Build());

        Assert.False(topology.Disaggregated);
        Assert.Null(topology.MaxLocalPrefillTokens);
    }

    [Fact]
    public void Read_DisaggregatedSwitchAndThreshold_AreTaken()
    {
        var parsed = AppHostCommandLine.Parse(["--disaggregated"]);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(parsed.Settings)
            .AddInMemoryCollection(new Dictionary<string, string?> { [ServingTopology.MaxLocalPrefillTokensKey] = "0" })
            .Build();

        var topology = ServingTopology.Read(configuration);

        Assert.True(topology.Disaggregated);
        Assert.Equal(0, topology.MaxLocalPrefillTokens);
    }

    [Theory]
    [InlineData(ServingTopology.Key, "split")]
    [InlineData(ServingTopology.MaxLocalPrefillTokensKey, "-1")]
    [InlineData(ServingTopology.MaxLocalPrefillTokensKey, "many")]
    public void Read_BadValue_ThrowsNamingTheKey(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();

        var ex = Assert.Throws<InvalidOperationException>(() => ServingTopology.Read(configuration));

        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }
}
