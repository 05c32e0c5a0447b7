using Dynamo.Worker.Engines.Native;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>
/// The attention softmax's exponential (native/src/fast_exp.h) replaced std::exp so that it can run eight
/// lanes at a time. Its scalar and AVX2 versions must agree bit for bit (attention stays independent of the
/// kernel set), and both must stay within 2 ulp of exp over the range the softmax uses (x ≤ 0), with 0 for
/// anything below -87 (including -inf) and NaN kept.
/// </summary>
public sealed class EngineSoftmaxExpTests
{
    [Fact]
    public void SoftmaxExp_SimdKernel_EqualsScalarBitForBit()
    {
        var x = Inputs();
        var scalar = new float[x.Length];
        var simd = new float[x.Length];

        Assert.True(NativeModel.SoftmaxExp(x, scalar, simd: false));
        if (!NativeModel.SoftmaxExp(x, simd, simd: true))
        {
            // Only a CPU without AVX2 lacks the kernel, and then the engine runs the scalar set.
            Assert.Equal("scalar", NativeModel.KernelsName);
            return;
        }

        for (var i = 0; i < x.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(simd[i]),
                $"exp({x[i]:R}): scalar {scalar[i]:R}, simd {simd[i]:R}");
        }
    }

    [Fact]
    public void SoftmaxExp_Scalar_IsWithinTwoUlpOfExp()
    {
        var x = Inputs().Where(v => v is >= -87f and <= 88f).ToArray();
        var y = new float[x.Length];

        NativeModel.SoftmaxExp(x, y, simd: false);

        for (var i = 0; i < x.Length; i++)
        {
            var exact = Math.Exp(x[i]);
            var ulp = (double)MathF.BitIncrement((float)exact) - (float)exact;
            Assert.True(Math.Abs(y[i] - exact) <= 2 * ulp, $"exp({x[i]:R}) = {y[i]:R}, expected {exact:R}");
        }
    }

    [Fact]
    public void SoftmaxExp_SpecialValues_FollowTheDocumentedRules()
    {
        float[] x = [float.NegativeInfinity, -100f, -87.5f, 0f, float.NaN];
        var y = new float[x.Length];

        NativeModel.SoftmaxExp(x, y, simd: false);

        Assert.Equal([0f, 0f, 0f, 1f], y[..4]);
        Assert.True(float.IsNaN(y[4]));
    }

    // A dense sweep of the softmax range, plus points around the reduction's rounding boundaries
    // (multiples of ln 2 / 2) and the clamps; the count is not a multiple of 8 so the tail runs too.
    private static float[] Inputs()
    {
        var values = new List<float>();
        for (var i = 0; i <= 200_000; i++)
        {
            values.Add(-90f + (i * 0.0005f));
        }

        for (var k = -130; k <= 130; k++)
        {
            var center = (float)(k * Math.Log(2) / 2);
            values.Add(center);
            values.Add(MathF.BitIncrement(center));
            values.Add(MathF.BitDecrement(center));
        }

        values.AddRange([float.NegativeInfinity, float.NaN, -87f, 88f, 100f, float.PositiveInfinity, -0f, 1e-30f]);
        return [.. values];
    }
}
