using Dynamo.ServiceDefaults.Discovery;
using Microsoft.Extensions.Configuration;

namespace Dynamo.ServiceDefaults.Tests.Discovery;

public sealed class ConfigurationServiceEndpointResolverTests
{
    private static (ConfigurationServiceEndpointResolver Resolver, IConfigurationRoot Configuration) Create(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return (new ConfigurationServiceEndpointResolver(configuration), configuration);
    }

    [Fact]
    public void GetEndpoints_IndexedReplicas_NumericOrder()
    {
        var (resolver, _) = Create(new()
        {
            ["services:router:http:10"] = "http://10.0.0.10:80",
            ["services:router:http:2"] = "http://10.0.0.2:80",
            ["services:router:http:0"] = "http://10.0.0.0:80",
        });

        var endpoints = resolver.GetEndpoints("router");

        Assert.Equal(["http://10.0.0.0/", "http://10.0.0.2/", "http://10.0.0.10/"], endpoints.Select(e => e.ToString()));
    }

    [Fact]
    public void TryResolve_ThreeReplicas_RoundRobinKeepingPathAndQuery()
    {
        var (resolver, _) = Create(new()
        {
            ["services:worker:http:0"] = "http://127.0.0.1:5001",
            ["services:worker:http:1"] = "http://127.0.0.1:5002",
            ["services:worker:http:2"] = "http://127.0.0.1:5003",
        });

        var resolved = Enumerable.Range(0, 6)
            .Select(_ => resolver.TryResolve(new Uri("http://worker/v1/generate?stream=true"), out var uri) ? uri.ToString() : "none")
            .ToList();

        Assert.Equal(
            ["5001", "5002", "5003", "5001", "5002", "5003"],
            resolved.Select(u => new Uri(u).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(resolved, u => Assert.EndsWith("/v1/generate?stream=true", u, StringComparison.Ordinal));
    }

    [Fact]
    public void TryResolve_UnknownHostOrExplicitPort_PassesThrough()
    {
        var (resolver, _) = Create(new() { ["services:router:http:0"] = "http://127.0.0.1:5001" });

        Assert.False(resolver.TryResolve(new Uri("https://api.openai.com/v1/models"), out _));
        Assert.False(resolver.TryResolve(new Uri("http://router:8080/x"), out _));
        Assert.False(resolver.TryResolve(new Uri("https://router/x"), out _));
    }

    [Fact]
    public void TryResolve_HttpsPlusHttp_PrefersHttpsElseHttp()
    {
        var (resolver, _) = Create(new()
        {
            ["services:a:https:0"] = "https://127.0.0.1:7001",
            ["services:a:http:0"] = "http://127.0.0.1:5001",
            ["services:b:http:0"] = "http://127.0.0.1:5002",
        });

        Assert.True(resolver.TryResolve(new Uri("https+http://a/x"), out var a));
        Assert.True(resolver.TryResolve(new Uri("https+http://b/x"), out var b));

        Assert.Equal("https://127.0.0.1:7001/x", a.ToString());
        Assert.Equal("http://127.0.0.1:5002/x", b.ToString());
    }

    [Fact]
    public void TryResolve_NamedEndpoint_UsesThatEndpointAndHostPortValues()
    {
        var (resolver, _) = Create(new() { ["services:worker:kv:0"] = "127.0.0.1:6001" });

        Assert.True(resolver.TryResolve(new Uri("http://_kv.worker/blocks"), out var resolved));

        Assert.Equal("http://127.0.0.1:6001/blocks", resolved.ToString());
    }

    [Fact]
    public void TryResolve_UnconfiguredNamedOrCompositeScheme_ThrowsNamingTheKey()
    {
        var (resolver, _) = Create(new());

        var error = Assert.Throws<InvalidOperationException>(() => resolver.TryResolve(new Uri("https+http://planner/x"), out _));

        Assert.Contains("services:planner:https:0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryResolve_ConfigurationReloaded_SeesNewReplicas()
    {
        var (resolver, configuration) = Create(new() { ["services:router:http:0"] = "http://127.0.0.1:5001" });
        Assert.True(resolver.TryResolve(new Uri("http://router/"), out var before));

        configuration["services:router:http:0"] = "http://127.0.0.1:6001";
        configuration.Reload();
        Assert.True(resolver.TryResolve(new Uri("http://router/"), out var after));

        Assert.Equal(5001, before.Port);
        Assert.Equal(6001, after.Port);
    }

    [Fact]
    public void GetEndpoints_InvalidValue_ThrowsNamingTheKey()
    {
        var (resolver, _) = Create(new() { ["services:router:http:0"] = "http://[bad" });

        var error = Assert.Throws<InvalidOperationException>(() => resolver.GetEndpoints("router"));

        Assert.Contains("services:router:http:0", error.Message, StringComparison.Ordinal);
    }
}
