using Dynamo.Worker.Engines.Mocker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Dynamo.Worker.Scheduling;
using static Dynamo.Worker.Tests.Scheduling.SchedulerHarness;

namespace Dynamo.Worker.Tests.Scheduling;

public sealed class MockerSchedulerTests
{
    [Fact]
    public void TimingModel_KnownPoints_MatchDynamosFormulas()
    {
        Assert.Equal(16.50142, MockerTimingModel.PrefillMs(0), 6);
        Assert.Equal((4.209989e-7 * 1e6) + 15.18344 + 16.50142, MockerTimingModel.PrefillMs(1000), 6);
        Assert.Equal(5.74, MockerTimingModel.DecodeMs(0), 6);
        Assert.Equal(-25.74 + 54.01 + 5.74, MockerTimingModel.DecodeMs(1), 6);
        Assert.Equal(0, MockerTimingModel.StepMs(0, 0, 0.5));
    }

    [Fact]
    public async Task ExecuteAsync_SingleRequest_SimulatesTheModelTimeDividedBySpeedUp()
    {
        await using var harness = new SchedulerHarness(64, 4);

        await CompleteAsync(harness.Scheduler.Submit(Request("t", Prompt(100), maxTokens: 1)));

        var expectedMs = MockerTimingModel.PrefillMs(100) / 10;
        Assert.Equal(expectedMs, harness.Mocker.SimulatedTime.TotalMilliseconds, 3);
        Assert.Equal(TimeSpan.FromMilliseconds(Math.Floor(expectedMs)), harness.Time.Elapsed);
    }

    [Fact]
    public async Task ExecuteAsync_CachedPrefix_ChargesPrefillForTheUncachedTokensOnly()
    {
        await using var harness = new SchedulerHarness(64, 4);
        var prompt = Prompt(100);
        await CompleteAsync(harness.Scheduler.Submit(Request("first", prompt, maxTokens: 1)));

        var (cached, prefillMs) = await ResubmitAsync(harness, prompt);

        // 24 full blocks of 4 are matchable (the last token is always computed), so 4 tokens are prefilled.
        Assert.Equal(96, cached);
        Assert.Equal(MockerTimingModel.PrefillMs(4) / 10, prefillMs, 3);
    }

    [Fact]
    public async Task ExecuteAsync_PrefixEvictedByLaterPrompts_IsChargedInFullAgain()
    {
        await using var harness = new SchedulerHarness(32, 4);
        var prompt = Prompt(100);
        await CompleteAsync(harness.Scheduler.Submit(Request("first", prompt, maxTokens: 1)));
        await CompleteAsync(harness.Scheduler.Submit(Request("other", Prompt(120, first: 5000), maxTokens: 8)));

        var (cached, prefillMs) = await ResubmitAsync(harness, prompt);

        // The other request (120 prompt + 8 output tokens) comes to need all 32 blocks, so every block of the first is evicted.
        Assert.Equal(0, cached);
        Assert.Equal(MockerTimingModel.PrefillMs(100) / 10, prefillMs, 3);
    }

    [Fact]
    public async Task ExecuteAsync_ManySubMillisecondSteps_WaitsTheirSumNotRoundedSteps()
    {
        await using var harness = new SchedulerHarness(64, 16);

        await CompleteAsync(harness.Scheduler.Submit(Request("d", Prompt(8), maxTokens: 200)));

        var simulated = harness.Mocker.SimulatedTime;
        Assert.Equal(200, harness.Engine.Steps.Count);
        Assert.InRange(simulated - harness.Time.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void AddSchedulingOptions_BindsConfigurationAndRejectsInvalidLimits()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Worker:Scheduler:MaxNumSeqs"] = "8",
            ["Worker:Mocker:SpeedUp"] = "0",
        }).Build();
        using var provider = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSchedulingOptions().BuildServiceProvider();

        Assert.Equal(8, provider.GetRequiredService<IOptions<SchedulerOptions>>().Value.MaxNumSeqs);
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MockerOptions>>().Value);
    }

    [Fact]
    public void TokenFor_TinyVocabulary_IsDeterministicAndNeverEos()
    {
        var engine = new MockerStepEngine(new MockerOptions { VocabSize = 3, EosTokenId = 1, Seed = 42 }, TimeProvider.System);

        var tokens = Enumerable.Range(0, 500).Select(p => engine.TokenFor(42, 7, p)).ToList();

        Assert.DoesNotContain(1, tokens);
        Assert.All(tokens, t => Assert.InRange(t, 0, 2));
        Assert.Contains(0, tokens);
        Assert.Contains(2, tokens);
        Assert.Equal(tokens, Enumerable.Range(0, 500).Select(p => engine.TokenFor(42, 7, p)));
    }

    [Fact]
    public async Task RunAsync_HundredMockerWorkersInOneProcess_AllServeTheirRequests()
    {
        var harnesses = Enumerable.Range(0, 100).Select(_ => new SchedulerHarness(64, 16)).ToList();
        try
        {
            var streams = harnesses
                .SelectMany((h, w) => Enumerable.Range(0, 3)
                    .Select(r => CompleteAsync(h.Scheduler.Submit(Request($"w{w}r{r}", Prompt(24, r * 50), maxTokens: 8)))))
                .ToList();

            var outputs = await Task.WhenAll(streams);

            Assert.Equal(300, outputs.Length);
            Assert.All(outputs, o => Assert.Equal(8, o.Count));
            Assert.All(harnesses, h => Assert.Equal(h.Kv.TotalBlocks, h.Kv.AvailableBlocks));
        }
        finally
        {
            foreach (var harness in harnesses)
            {
                await harness.DisposeAsync();
            }
        }
    }

    /// <summary>Submits the prompt once more: the cached tokens it reported and the simulated milliseconds it cost.</summary>
    private static async Task<(int CachedTokens, double Ms)> ResubmitAsync(SchedulerHarness harness, int[] prompt)
    {
        var before = harness.Mocker.SimulatedTime;
        var again = await CompleteAsync(harness.Scheduler.Submit(Request("again", prompt, maxTokens: 1)));
        return (again[^1].CachedTokens, (harness.Mocker.SimulatedTime - before).TotalMilliseconds);
    }
}
