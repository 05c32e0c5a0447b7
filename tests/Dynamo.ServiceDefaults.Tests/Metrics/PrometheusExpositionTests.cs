namespace Dynamo.ServiceDefaults.Tests.Metrics;

/// <summary>The parser the other tests rely on must itself reject malformed expositions.</summary>
public sealed class PrometheusExpositionTests
{
    private const string Valid = """
        # HELP req_total Requests.
        # TYPE req_total counter
        req_total{a="x\"y\\z\n"} 3
        # TYPE lat_seconds histogram
        lat_seconds_bucket{le="0.1"} 1
        lat_seconds_bucket{le="+Inf"} 2
        lat_seconds_sum 0.55
        lat_seconds_count 2

        """;

    [Fact]
    public void Parse_ValidExposition_ReadsValuesAndUnescapesLabels()
    {
        var parsed = PrometheusExposition.Parse(Valid);

        Assert.Equal("x\"y\\z\n", Assert.Single(parsed.Find("req_total")).Labels["a"]);
        Assert.Equal(2, parsed.Value("lat_seconds_count"));
    }

    [Theory]
    [InlineData("# TYPE a counter\n# TYPE a counter\na 1\n")]
    [InlineData("a 1\n")]
    [InlineData("# TYPE a counter\na 1\na 2\n")]
    [InlineData("# TYPE a gauge\na{x=\"\\q\"} 1\n")]
    [InlineData("# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n")]
    [InlineData("# TYPE a gauge\na{1x=\"1\"} 1\n")]
    [InlineData("# TYPE a gauge\na one\n")]
    [InlineData("# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n")]
    [InlineData("# TYPE a gauge\na 1")]
    public void Parse_MalformedExposition_Throws(string text) =>
        Assert.Throws<FormatException>(() => PrometheusExposition.Parse(text));
}
