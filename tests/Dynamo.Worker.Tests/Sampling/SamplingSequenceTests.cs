using Dynamo.Worker.Engines.Sampling;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Tests.Sampling;

public sealed class SamplingSequenceTests
{
    [Fact]
    public void SampleNext_WithPenalties_RecordsPromptAndOutput()
    {
        var sequence = new SamplingSequence(
            SamplingParams.Greedy with { FrequencyPenalty = 1f }, [4, 5], new CountingSeedSource(1));
        float[] logits = [0f, 3f, 2.5f, 0f, 0f, 0f];

        var first = sequence.SampleNext(new Sampler(6), logits, []);
        var second = sequence.SampleNext(new Sampler(6), logits, []);

        Assert.Equal(1, first.TokenId);
        Assert.Equal(2, second.TokenId);
        Assert.True(sequence.History.InPrompt(4));
        Assert.Equal(1, sequence.History.OutputCount(1));
        Assert.Equal(1, sequence.History.OutputCount(2));
    }

    [Fact]
    public void SampleNext_WithoutPenalties_KeepsNoHistory()
    {
        var sequence = new SamplingSequence(SamplingParams.Greedy, [4, 5], new CountingSeedSource(1));

        sequence.SampleNext(new Sampler(6), [0f, 3f, 2.5f, 0f, 0f, 0f], []);

        Assert.Equal(0, sequence.History.DistinctCount);
    }

    [Fact]
    public void Constructor_SeededParams_StreamFollowsSeed()
    {
        var sequence = new SamplingSequence(new SamplingParams(Seed: 77), [], new CountingSeedSource(1));

        Assert.Equal(new SamplingRng(77).NextUInt64(), sequence.Rng.NextUInt64());
    }

    [Fact]
    public void AddSampling_NoSeedSourceRegistered_RegistersCryptoSource()
    {
        using var provider = new ServiceCollection().AddSampling().BuildServiceProvider();

        Assert.IsType<CryptoSamplingSeedSource>(provider.GetRequiredService<ISamplingSeedSource>());
    }

    [Fact]
    public void AddSampling_SeedSourceAlreadyRegistered_KeepsIt()
    {
        var fixedSource = new CountingSeedSource(5);
        using var provider = new ServiceCollection()
            .AddSingleton<ISamplingSeedSource>(fixedSource)
            .AddSampling()
            .BuildServiceProvider();

        Assert.Same(fixedSource, provider.GetRequiredService<ISamplingSeedSource>());
    }
}
