using Dynamo.Worker.Engines.Native;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>
/// Engine logits against <see cref="ReferenceModel"/> (double precision, dequantized weights).
/// Logits of the generated models have unit scale. Tolerances (max absolute difference):
/// F32/F16 weights 1e-4 (float32 accumulation only; observed ≈ 3e-6); F16 KV cache 5e-3 (half-precision
/// K/V rounding; observed ≈ 8e-4); Q8_0 weights 0.1 (observed ≈ 0.066), because the engine also quantizes
/// activations to 8 bits per 32-element block before each matmul (as llama.cpp does) while the reference
/// keeps them exact; Q4_0 weights 0.2 (observed ≈ 0.093; same activation quantization,
/// coarser weights so each rounding flip moves more).
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class EngineReferenceTests(EngineModelsFixture models)
{
    [Theory]
    [InlineData("llama-f32", 1e-4)]
    [InlineData("qwen2-f32", 1e-4)]
    [InlineData("llama-f16-untied", 1e-4)]
    [InlineData("llama-q8_0", 0.1)]
    [InlineData("llama-q4_0", 0.2)]
    public void Step_Prompt_MatchesReferenceForward(string model, double tolerance)
    {
        var path = PathOf(model);
        var prompt = EngineSession.Prompt(37);
        using var session = new EngineSession(path);

        var logits = session.Run(prompt, 0, EngineSession.Identity(3));
        var expected = new ReferenceModel(path).Logits(prompt);

        AssertClose(expected, logits, tolerance);
    }

    [Fact]
    public void Step_DecodeAfterPrefill_MatchesReferenceForward()
    {
        var prompt = EngineSession.Prompt(20, salt: 3);
        var reference = new ReferenceModel(models.LlamaF32);
        using var session = new EngineSession(models.LlamaF32);
        var table = EngineSession.Identity(4);

        session.Run(prompt, 0, table);
        var logits = session.Run([prompt[5]], prompt.Length, table);

        AssertClose(reference.Logits([.. prompt, prompt[5]]), logits, 1e-4);
    }

    [Fact]
    public void Greedy_F32Model_MatchesReferenceGreedy()
    {
        var prompt = EngineSession.Prompt(9, salt: 5);
        using var session = new EngineSession(models.Qwen2F32);

        var tokens = session.Greedy(prompt, 6, EngineSession.Identity(2));

        Assert.Equal(new ReferenceModel(models.Qwen2F32).Greedy(prompt, 6), tokens);
    }

    [Fact]
    public void Step_F16KvCache_MatchesReferenceWithinHalfPrecision()
    {
        var prompt = EngineSession.Prompt(30, salt: 1);
        using var session = new EngineSession(models.LlamaF32, kvType: NativeKvType.F16);

        var logits = session.Run(prompt, 0, EngineSession.Identity(2));

        AssertClose(new ReferenceModel(models.LlamaF32).Logits(prompt), logits, 5e-3);
    }

    [Theory]
    [InlineData("llama-f32")]
    [InlineData("llama-q8_0")]
    [InlineData("llama-q4_0")]
    public void Step_ScalarKernels_MatchSimdKernels(string model)
    {
        var prompt = EngineSession.Prompt(25, salt: 2);
        using var session = new EngineSession(PathOf(model));
        var simd = session.Run(prompt, 0, EngineSession.Identity(2));
        float[] scalar;
        NativeModel.ForceScalarKernels(true);
        try
        {
            scalar = session.Run(prompt, 0, EngineSession.Identity(2));
        }
        finally
        {
            NativeModel.ForceScalarKernels(false);
        }

        // Same quantization, different float summation order only.
        AssertClose(scalar.Select(v => (double)v).ToArray(), simd, 1e-4);
        if (model == "llama-q8_0" && NativeModel.KernelsName.Contains("avx512", StringComparison.Ordinal))
        {
            // With the q8x16 kernels every Q8_0 step has one order of arithmetic (matmuls, attention, SiLU, the
            // activation quantization), whichever kernel set computes it.
            Assert.Equal(simd, scalar);
        }
    }

    [Fact]
    public void Load_GeneratedModel_ReportsItsHyperparameters()
    {
        using var model = NativeModel.Load(models.Qwen2F32);

        var info = model.Info;

        Assert.Equal(NativeArchitecture.Qwen2, info.Architecture);
        Assert.Equal((32000, 64, 2, 4, 2, 16, 192), (info.VocabSize, info.EmbeddingLength, info.LayerCount, info.HeadCount, info.KvHeadCount, info.HeadDim, info.FeedForwardLength));
        Assert.True(info.RopeNeox);
        Assert.True(info.TiedOutput);
        Assert.Equal(1_000_000f, info.RopeFreqBase);
    }

    internal static void AssertClose(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0.0;
        var at = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs(expected[i] - actual[i]);
            if (!(d <= worst))
            {
                worst = d;
                at = i;
            }
        }

        Assert.True(worst <= tolerance, $"max |diff| {worst:G4} at {at} (expected {expected[at]:G6}, got {actual[at]:G6}) exceeds {tolerance}");
        Assert.True(expected.Max() - expected.Min() > 1.0, "logits are degenerate; the comparison would prove nothing");
    }

    private string PathOf(string model) => model switch
    {
        "llama-f32" => models.LlamaF32,
        "llama-q8_0" => models.LlamaQ8,
        "llama-q4_0" => models.LlamaQ4,
        "qwen2-f32" => models.Qwen2F32,
        "llama-f16-untied" => models.LlamaF16Untied,
        _ => throw new ArgumentOutOfRangeException(nameof(model)),
    };
}
