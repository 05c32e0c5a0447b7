using System.Text.Json;
using Dynamo.Router.Routing;
using Dynamo.Runtime.Hashing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Tests.Routing;

public sealed class RoutingRegistrationTests
{
    [Fact]
    public async Task AddKvRouting_UnknownPolicy_FailsAtStartNamingTheChoices()
    {
        using var host = KvEventIngestorTests.BuildHost(
            "nats://127.0.0.1:1",
            extra: new Dictionary<string, string?> { ["Router:Routing:Policy"] = "fastest" },
            configure: builder => builder.AddKvRouting());

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("round_robin, random, least_loaded, kv_aware", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddKvRouting_Configured_ResolvesTheRouterWithTheConfiguredSettings()
    {
        using var host = KvEventIngestorTests.BuildHost(
            "nats://127.0.0.1:1",
            extra: new Dictionary<string, string?> { ["Router:Routing:Temperature"] = "0.5", ["Router:Routing:Seed"] = "9" },
            configure: builder => builder.AddKvRouting());

        Assert.Same(host.Services.GetRequiredService<RequestRouter>(), host.Services.GetRequiredService<IRequestRouter>());
        Assert.Equal(0.5, host.Services.GetRequiredService<IOptions<KvRoutingOptions>>().Value.Temperature);
        Assert.IsType<SeededRandomSource>(host.Services.GetRequiredService<IRandomSource>());
    }

    [Fact]
    public void RoutingOverrides_NvextJson_BindsDynamoFieldNames()
    {
        var overrides = JsonSerializer.Deserialize<RoutingOverrides>(
            """{"overlap_score_weight": 2.5, "router_temperature": 0.3, "routing_policy": "random", "backend_instance_id": "w7"}""")!;

        Assert.Equal(2.5, overrides.OverlapScoreWeight);
        Assert.Equal(0.3, overrides.Temperature);
        Assert.Equal("random", overrides.Policy);
        Assert.Equal("w7", overrides.WorkerId);
    }

    [Fact]
    public void FromTokens_PromptAndAdapter_HashesFullBlocksLikeTheWorkers()
    {
        var tokens = Enumerable.Range(100, 40).ToArray();

        var plain = RoutingRequest.FromTokens("r", tokens, 16);
        var lora = RoutingRequest.FromTokens("r", tokens, 16, loraAdapter: "sql");

        Assert.Equal(40, plain.InputTokens);
        Assert.Equal(KvBlockHashing.ComputeBlockHashes(tokens, 16).SequenceHashes, plain.BlockHashes);
        Assert.Equal(2, plain.BlockHashes.Count);
        Assert.NotEqual(plain.BlockHashes, lora.BlockHashes);
    }
}
