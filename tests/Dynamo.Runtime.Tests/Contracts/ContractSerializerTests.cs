using System.Text;
using System.Text.Json;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Runtime.Tests.Contracts;

public sealed class ContractSerializerTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Deserialize_KvEventBatch_RoundTripsEveryEventKind()
    {
        var batch = new KvEventBatch("worker-1", 42, s_now,
        [
            new KvStored(null, [new KvStoredBlock(ulong.MaxValue, 7), new KvStoredBlock(2, 8)], KvTier.Host),
            new KvRemoved([ulong.MaxValue, 3]),
            new KvCleared(),
        ]);

        var json = ContractSerializer.Serialize(batch);
        var back = ContractSerializer.Deserialize<KvEventBatch>(json);

        Assert.Equal(1, back.Version);
        Assert.Equal(("worker-1", 42L, s_now), (back.WorkerId, back.EventId, back.Timestamp));
        var stored = Assert.IsType<KvStored>(back.Events[0]);
        Assert.Null(stored.ParentHash);
        Assert.Equal(KvTier.Host, stored.Tier);
        Assert.Equal([new KvStoredBlock(ulong.MaxValue, 7), new KvStoredBlock(2, 8)], stored.Blocks);
        Assert.Equal([ulong.MaxValue, 3UL], Assert.IsType<KvRemoved>(back.Events[1]).SeqHashes);
        Assert.IsType<KvCleared>(back.Events[2]);
        Assert.Equal(json, ContractSerializer.Serialize(back));
    }

    [Fact]
    public void Serialize_KvEventBatch_UsesVersionFieldDiscriminatorAndStringTier()
    {
        var batch = new KvEventBatch("w", 1, s_now, [new KvStored(5, [new KvStoredBlock(1, 2)], KvTier.Disk)]);

        var text = Encoding.UTF8.GetString(ContractSerializer.Serialize(batch));

        Assert.StartsWith("{\"v\":1,", text, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"stored\"", text, StringComparison.Ordinal);
        Assert.Contains("\"tier\":\"Disk\"", text, StringComparison.Ordinal);
        Assert.Contains("\"seqHash\":1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_WorkerRegistration_RoundTrips()
    {
        var registration = new WorkerRegistration("w-7", "llama-3-8b", WorkerRole.Decode, "native",
            new WorkerEndpoints("http://127.0.0.1:5001", "tcp://127.0.0.1:6001"), 16, 16_384, s_now,
            ["adapter-a"], new Dictionary<string, string> { ["zone"] = "a" });

        var back = ContractSerializer.Deserialize<WorkerRegistration>(ContractSerializer.Serialize(registration));

        Assert.Equal(registration.Endpoints, back.Endpoints);
        Assert.Equal((WorkerRole.Decode, 16, 16_384L), (back.Role, back.BlockSize, back.KvCapacityBlocks));
        Assert.Equal(["adapter-a"], back.LoraAdapters!);
        Assert.Equal("a", back.Labels!["zone"]);
    }

    [Fact]
    public void Deserialize_WorkerLoadMetricsAndModelCard_RoundTrip()
    {
        var metrics = new WorkerLoadMetrics("w", s_now, 10, 100, 512, 3, 1, 0.1, [new KvTierUsage(KvTier.Host, 5, 50)], 0.5);
        var card = new ModelCard("m", ["http://router:80"], 8192, 16, s_now, "llama3", Multimodal: true);

        var metricsBack = ContractSerializer.Deserialize<WorkerLoadMetrics>(ContractSerializer.Serialize(metrics));
        var cardBack = ContractSerializer.Deserialize<ModelCard>(ContractSerializer.Serialize(card));

        Assert.Equal(metrics with { Tiers = null }, metricsBack with { Tiers = null });
        Assert.Equal(0.1, Assert.Single(metricsBack.Tiers!).Usage, 6);
        Assert.Equal(["http://router:80"], cardBack.RouterEndpoints);
        Assert.True(cardBack.Multimodal);
    }

    [Fact]
    public void Deserialize_NewerVersion_ThrowsClearVersionError()
    {
        var json = """{"v":2,"workerId":"w","eventId":1,"timestamp":"2026-11-21T12:00:00+00:00","events":[]}"""u8.ToArray();

        var error = Assert.Throws<ContractVersionException>(() => ContractSerializer.Deserialize<KvEventBatch>(json));

        Assert.Equal(2, error.Version);
        Assert.Contains("KvEventBatch", error.Message, StringComparison.Ordinal);
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_MissingVersion_ThrowsVersionError()
    {
        var json = """{"workerId":"w","eventId":1,"timestamp":"2026-11-21T12:00:00+00:00","events":[]}"""u8.ToArray();

        var error = Assert.Throws<ContractVersionException>(() => ContractSerializer.Deserialize<KvEventBatch>(json));

        Assert.Null(error.Version);
    }

    [Fact]
    public void Deserialize_UnknownEventType_ThrowsJsonException()
    {
        var json = """{"v":1,"workerId":"w","eventId":1,"timestamp":"2026-11-21T12:00:00+00:00","events":[{"type":"moved"}]}"""u8.ToArray();

        Assert.ThrowsAny<JsonException>(() => ContractSerializer.Deserialize<KvEventBatch>(json));
    }

    [Fact]
    public void Deserialize_MissingRequiredField_ThrowsJsonException()
    {
        var json = """{"v":1,"workerId":"w","timestamp":"2026-11-21T12:00:00+00:00","events":[]}"""u8.ToArray();

        Assert.ThrowsAny<JsonException>(() => ContractSerializer.Deserialize<KvEventBatch>(json));
    }
}
