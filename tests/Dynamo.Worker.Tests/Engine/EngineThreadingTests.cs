using Dynamo.TestSupport;
using Dynamo.Worker.Engines.Native;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>
/// The thread pool (spin, then poll inside a step, then park; chunks claimed by whichever thread
/// is free) must not change a single logit, and must leave no thread spinning once a step has returned.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class EngineThreadingTests(EngineModelsFixture models)
{
    [Theory]
    [InlineData("q8")]
    [InlineData("f32")]
    public void Step_ThreadCountsAndSpinBudgets_GiveIdenticalLogits(string type)
    {
        var path = type == "q8" ? models.LlamaQ8 : models.LlamaF32;
        var prompt = EngineSession.Prompt(70, salt: 5);
        using var single = new EngineSession(path, options: new NativeEngineOptions { MaxBatchTokens = 256, Threads = 1 });
        using var parked = new EngineSession(path, options: new NativeEngineOptions { MaxBatchTokens = 256, Threads = 3, SpinMicroseconds = 0, StepSpinMicroseconds = 0 });
        using var spinning = new EngineSession(path, options: new NativeEngineOptions { MaxBatchTokens = 256, Threads = 2, SpinMicroseconds = 2000 });
        using var yielding = new EngineSession(path, options: new NativeEngineOptions { MaxBatchTokens = 256, Threads = 3, SpinMicroseconds = 0, StepSpinMicroseconds = 100_000 });

        var expectedPrefill = single.Run(prompt, 0, [0, 1, 2, 3, 4]);
        var expectedDecode = single.Run([77], prompt.Length, [0, 1, 2, 3, 4]);

        foreach (var session in new[] { parked, spinning, yielding })
        {
            Assert.Equal(expectedPrefill, session.Run(prompt, 0, [5, 6, 7, 8, 9]));
            Assert.Equal(expectedDecode, session.Run([77], prompt.Length, [5, 6, 7, 8, 9]));
        }
    }

    [Fact]
    public async Task Step_Returned_AllPoolThreadsPark()
    {
        using var session = new EngineSession(models.LlamaQ8, options: new NativeEngineOptions { Threads = 3, SpinMicroseconds = 100_000 });
        Assert.Equal(100_000, session.Engine.SpinMicroseconds);

        session.Run(EngineSession.Prompt(40), 0, [0, 1, 2]);

        // A spin budget is a bound: after it the two workers must be asleep, not polling.
        await Eventually.TrueAsync(() => session.Engine.ParkedThreads == 2, "both pool threads parked after the step");
    }

    [Fact]
    public async Task Step_ReturnedWithLongStepSpin_PoolThreadsParkWhenTheStepEnds()
    {
        // Ten seconds of in-step polling: only the end of the step can park the workers sooner.
        using var session = new EngineSession(models.LlamaQ8, options: new NativeEngineOptions { Threads = 3, SpinMicroseconds = 0, StepSpinMicroseconds = 10_000_000 });

        session.Run(EngineSession.Prompt(40), 0, [0, 1, 2]);

        await Eventually.TrueAsync(() => session.Engine.ParkedThreads == 2, "both pool threads parked once the step ended", seconds: 5);
    }

    [Fact]
    public async Task Step_FailedValidation_EndsTheStepAndPoolThreadsPark()
    {
        using var session = new EngineSession(models.LlamaQ8, options: new NativeEngineOptions { Threads = 3, SpinMicroseconds = 0, StepSpinMicroseconds = 10_000_000 });
        session.Run(EngineSession.Prompt(8), 0, [0]);
        await Eventually.TrueAsync(() => session.Engine.ParkedThreads == 2, "both pool threads parked after the first step", seconds: 5);

        // The step starts (waking the workers) before the batch is found invalid.
        var error = Assert.Throws<NativeEngineException>(() => session.Run(EngineSession.Prompt(40), 0, [0]));

        Assert.Equal(NativeStatus.OutOfRange, error.Status);
        await Eventually.TrueAsync(() => session.Engine.ParkedThreads == 2, "both pool threads parked after the failed step", seconds: 5);
    }

    [Fact]
    public void SetStepSpinMicroseconds_ChangesBudgetAndKeepsItAcrossThreadCounts()
    {
        using var session = new EngineSession(models.LlamaF32);
        Assert.Equal(4000, session.Engine.StepSpinMicroseconds);

        session.Engine.SetStepSpinMicroseconds(10_000_000);
        session.Engine.SetThreads(3);

        Assert.Equal(10_000_000, session.Engine.StepSpinMicroseconds);
        Assert.Equal(50, session.Engine.SpinMicroseconds);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10_000_001)]
    public void SetStepSpinMicroseconds_OutOfRange_ThrowsInvalidArgument(int spin)
    {
        using var session = new EngineSession(models.LlamaF32);

        var error = Assert.Throws<NativeEngineException>(() => session.Engine.SetStepSpinMicroseconds(spin));

        Assert.Equal(NativeStatus.InvalidArgument, error.Status);
        Assert.Contains("step spin", error.NativeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_OutOfRangeStepSpinOption_ThrowsInvalidArgument()
    {
        using var model = NativeModel.Load(models.LlamaF32);
        using var pool = NativeKvPool.Create(model, 8, 16);

        var error = Assert.Throws<NativeEngineException>(() => NativeEngine.Create(model, pool, new NativeEngineOptions { StepSpinMicroseconds = -5 }));

        Assert.Equal(NativeStatus.InvalidArgument, error.Status);
    }

    [Fact]
    public void SetSpinMicroseconds_ChangesBudgetAndKeepsItAcrossThreadCounts()
    {
        using var session = new EngineSession(models.LlamaF32);
        Assert.Equal(50, session.Engine.SpinMicroseconds);

        session.Engine.SetSpinMicroseconds(0);
        session.Engine.SetThreads(3);

        Assert.Equal(0, session.Engine.SpinMicroseconds);
        Assert.Equal(3, session.Engine.Threads);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(100_001)]
    public void SetSpinMicroseconds_OutOfRange_ThrowsInvalidArgument(int spin)
    {
        using var session = new EngineSession(models.LlamaF32);

        var error = Assert.Throws<NativeEngineException>(() => session.Engine.SetSpinMicroseconds(spin));

        Assert.Equal(NativeStatus.InvalidArgument, error.Status);
        Assert.Contains("spin", error.NativeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_OutOfRangeSpinOption_ThrowsInvalidArgument()
    {
        using var model = NativeModel.Load(models.LlamaF32);
        using var pool = NativeKvPool.Create(model, 8, 16);

        var error = Assert.Throws<NativeEngineException>(() => NativeEngine.Create(model, pool, new NativeEngineOptions { SpinMicroseconds = -5 }));

        Assert.Equal(NativeStatus.InvalidArgument, error.Status);
    }
}
