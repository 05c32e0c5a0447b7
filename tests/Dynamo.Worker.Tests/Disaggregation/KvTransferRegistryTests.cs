using Dynamo.TestSupport;
using Dynamo.Worker.Disaggregation;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Tests.Disaggregation;

public sealed class KvTransferRegistryTests
{
    private readonly ManualTimeProvider _time = new();

    private KvTransferRegistry Registry(long maxBufferedBytes = 1 << 20) =>
        new(Options.Create(new DisaggregationOptions { TransferTimeoutMs = 1_000, MaxBufferedBytes = maxBufferedBytes }), _time);

    private static KvTransferHeader Header(params ulong[] hashes) =>
        new("t", "m", "native", "layout", 4, 1_000, (hashes.Length * 4) + 1, hashes);

    [Fact]
    public void BeginPush_NoDecodeRequestClaimsIt_BytesAreHeldUntilExpiryThenReleased()
    {
        using var registry = Registry();

        Assert.Null(registry.BeginPush("t", Header(1, 2), out _));
        Assert.Equal(2_000, registry.BufferedBytes);
        _time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(2_000, registry.BufferedBytes);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(0, registry.BufferedBytes);
        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public void BeginPush_OverTheBudget_IsRefusedAndTheDecodeRequestGetsNothing()
    {
        using var registry = Registry(maxBufferedBytes: 1_500);

        var refused = registry.BeginPush("t", Header(1, 2), out _);
        var entry = registry.Claim("t", [1, 2])!;

        Assert.Contains("no buffer space", refused, StringComparison.Ordinal);
        Assert.True(entry.Finished.Task.IsCompleted);
        Assert.Null(registry.Detach(entry, out var outcome, out _));
        Assert.Equal(KvTransferState.Failed, outcome);
        Assert.Equal(0, registry.BufferedBytes);
    }

    [Fact]
    public void BeginPush_HashesDifferFromTheClaimedPrompt_IsRefused()
    {
        using var registry = Registry();
        var entry = registry.Claim("t", [1, 2])!;

        var refused = registry.BeginPush("t", Header(1, 3), out _);

        Assert.Contains("hashes differ", refused, StringComparison.Ordinal);
        Assert.True(entry.Finished.Task.IsCompleted);
        Assert.Null(registry.Detach(entry, out _, out _));
    }

    [Fact]
    public void Detach_AfterTwoOfThreeBlocks_ReturnsThoseTwoAndRefusesTheRest()
    {
        using var registry = Registry();
        Assert.Null(registry.BeginPush("t", Header(1, 2, 3), out var pushed));
        Assert.True(registry.CommitBlock(pushed, 0));
        Assert.True(registry.CommitBlock(pushed, 1));
        var entry = registry.Claim("t", [1, 2, 3])!;

        using var import = registry.Detach(entry, out var outcome, out var failure);

        Assert.Equal(KvTransferState.Open, outcome);
        Assert.Equal("timed out", failure);
        Assert.Equal(2, import!.Blocks);
        Assert.Equal(2ul, import.SequenceHash(1));
        Assert.False(registry.CommitBlock(pushed, 2));
        Assert.NotNull(registry.BeginPush("t", Header(1, 2, 3), out _));
        import.Release();
        Assert.Equal(0, registry.BufferedBytes);
    }

    [Fact]
    public void Claim_SameIdTwice_SecondRequestGetsNoTransfer()
    {
        using var registry = Registry();

        Assert.NotNull(registry.Claim("t", [1]));
        Assert.Null(registry.Claim("t", [1]));
    }
}
