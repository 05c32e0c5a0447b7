using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

public sealed class TokenCountsTests
{
    [Fact]
    public void AddOutput_RepeatedToken_CountsEachOccurrence()
    {
        var counts = new TokenCounts();
        counts.AddOutput(7);
        counts.AddOutput(7);
        counts.AddOutput(3);

        Assert.Equal(2, counts.OutputCount(7));
        Assert.Equal(1, counts.OutputCount(3));
        Assert.Equal(0, counts.OutputCount(4));
        Assert.Equal(3, counts.OutputLength);
        Assert.Equal(2, counts.DistinctCount);
    }

    [Fact]
    public void AddPrompt_Tokens_MarkedInPromptWithoutOutputCount()
    {
        var counts = new TokenCounts();
        counts.AddPrompt([5, 5, 9]);

        Assert.True(counts.InPrompt(5));
        Assert.True(counts.InPrompt(9));
        Assert.False(counts.InPrompt(6));
        Assert.Equal(0, counts.OutputCount(5));
        Assert.Equal(0, counts.OutputLength);
        Assert.Equal(2, counts.DistinctCount);
    }

    [Fact]
    public void AddOutput_TokenAlsoInPrompt_SharesOneEntry()
    {
        var counts = new TokenCounts();
        counts.AddPrompt([4]);
        counts.AddOutput(4);

        Assert.Equal(1, counts.DistinctCount);
        Assert.True(counts.InPromptAt(0));
        Assert.Equal(1, counts.OutputCountAt(0));
        Assert.Equal(4, counts.Tokens[0]);
    }

    [Fact]
    public void AddOutput_ManyDistinctTokensBeyondCapacity_KeepsEveryCount()
    {
        var counts = new TokenCounts(expectedDistinctTokens: 4);
        for (var token = 0; token < 5000; token++)
        {
            for (var k = 0; k <= token % 3; k++)
            {
                counts.AddOutput(token * 31);
            }
        }

        Assert.Equal(5000, counts.DistinctCount);
        for (var token = 0; token < 5000; token++)
        {
            Assert.Equal((token % 3) + 1, counts.OutputCount(token * 31));
        }
    }

    [Fact]
    public void Clear_AfterUse_ForgetsEverything()
    {
        var counts = new TokenCounts();
        counts.AddPrompt([1, 2]);
        counts.AddOutput(2);
        counts.Clear();

        Assert.Equal(0, counts.DistinctCount);
        Assert.Equal(0, counts.OutputLength);
        Assert.False(counts.InPrompt(1));
        Assert.Equal(0, counts.OutputCount(2));
        counts.AddOutput(2);
        Assert.Equal(1, counts.OutputCount(2));
    }

    [Fact]
    public void AddOutput_NegativeToken_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenCounts().AddOutput(-1));
    }

    [Fact]
    public void AddOutput_SteadyState_AllocatesNothing()
    {
        var counts = new TokenCounts(expectedDistinctTokens: 256);
        counts.AddOutput(1);
        var fewest = long.MaxValue;
        for (var window = 0; window < 5; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 200; i++)
            {
                counts.AddOutput(i % 100);
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }
}
