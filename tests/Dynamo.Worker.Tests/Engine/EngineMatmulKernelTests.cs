using Dynamo.Runtime.Gguf;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Models;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>
/// A token's logits must not depend on how many other rows share its step, so the Q8_0 matmul a step runs (on
/// AVX-512 VNNI CPUs: weights repacked into 16-row groups, one kernel for one token or many; elsewhere the AVX2
/// tiles) must return, bit for bit, what plain code in the same order of arithmetic returns: q8x16.h's order
/// computed straight from the GGUF rows where weights are repacked (so the packing, on as many threads as the
/// matmul, is checked too), the one-row dot product otherwise. The model-level tests use a tiny model whose
/// shapes never reach a partial 16-row group or many blocks per row; these shapes do.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class EngineMatmulKernelTests
{
    [Theory]
    [InlineData(1, 32, 1, 1)]
    [InlineData(7, 96, 1, 1)]      // one partial group of rows
    [InlineData(37, 544, 1, 2)]    // 17 blocks per row, a partial last group
    [InlineData(512, 1408, 1, 2)]  // the default model's down projection at batch 1
    [InlineData(1030, 512, 1, 3)]  // rows split over three threads, a partial last group
    [InlineData(66, 544, 2, 2)]
    [InlineData(45, 1408, 3, 1)]   // a batch shorter than one token tile
    [InlineData(130, 512, 9, 2)]
    [InlineData(19, 96, 33, 2)]
    public void MatmulQ8_EveryBatchAndShape_EqualsThePlainReferenceBitForBit(int rows, int cols, int batch, int threads)
    {
        AssertEngineEqualsReference(rows, cols, batch, threads);
    }

    [Theory]
    [InlineData(37, 544, 1, 2)]
    [InlineData(130, 512, 9, 3)]
    public void MatmulQ8_ForcedScalarKernels_EqualTheReferenceBitForBit(int rows, int cols, int batch, int threads)
    {
        // Forced scalar kernels still meet repacked weights (a model loaded before the switch) and compute them
        // with the plain q8x16 reference, which must give the kernel's bits.
        NativeModel.ForceScalarKernels(true);
        try
        {
            AssertEngineEqualsReference(rows, cols, batch, threads);
        }
        finally
        {
            NativeModel.ForceScalarKernels(false);
        }
    }

    private static void AssertEngineEqualsReference(int rows, int cols, int batch, int threads)
    {
        var random = new Random(rows * 7919 + cols * 31 + batch);
        var weights = TensorEncoding.Encode(Values(random, rows * cols), GgmlType.Q8_0);
        var x = Values(random, batch * cols);
        var engine = new float[batch * rows];
        var reference = new float[batch * rows];

        NativeModel.MatmulQ8(weights, rows, cols, x, threads, engine, reference);

        for (var i = 0; i < engine.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(engine[i]) == BitConverter.SingleToInt32Bits(reference[i]),
                $"token {i / rows}, row {i % rows} ({NativeModel.KernelsName}): engine {engine[i]:R}, reference {reference[i]:R}");
        }

        Assert.Contains(reference, v => v != 0f);
    }

    [Fact]
    public void MatmulQ8_ShapesThatAreNotQ8Blocks_AreRefused()
    {
        var weights = new byte[34];
        Assert.Throws<ArgumentException>(() => NativeModel.MatmulQ8(weights, 1, 31, new float[31], 1, new float[1], new float[1]));
        Assert.Throws<ArgumentException>(() => NativeModel.MatmulQ8(weights, 2, 32, new float[32], 1, new float[2], new float[2]));
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1) * (i % 97 == 0 ? 8f : 1f);
        }

        return values;
    }
}
