using Dynamo.Worker.Engines.Native;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>
/// The attention softmax's exponential (native/src/fast_exp.h) replaced std::exp so that it can run in
/// vector registers. Its scalar and AVX2 versions must agree bit for bit (attention stays independent of
/// the kernel set), and it must be correctly rounded (within 0.5 ulp, with a hair of slack for the double
/// reference) on [-87, 88], so that it agrees with the libm expf it replaced on all but rare midpoint cases;
/// outside that range it defers to libm.
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
    public void SiluMul_SimdKernel_EqualsScalarBitForBit()
    {
        // SwiGLU's gate reuses this exp; its vector form must keep the scalar loop's bits too (divide, then multiply),
        // including inputs whose exp leaves the fast range (|g| > 87) and a tail shorter than a register.
        var random = new Random(11);
        var g = Enumerable.Range(0, 4099).Select(i => (float)((random.NextDouble() * 2 - 1) * (i % 50 == 0 ? 120 : 12))).ToArray();
        var u = Enumerable.Range(0, g.Length).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var scalar = g.ToArray();
        var simd = g.ToArray();

        Assert.True(NativeModel.SiluMul(scalar, u, simd: false));
        if (!NativeModel.SiluMul(simd, u, simd: true))
        {
            Assert.Equal("scalar", NativeModel.KernelsName);
            return;
        }

        for (var i = 0; i < g.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(simd[i]),
                $"silu({g[i]:R}) · {u[i]:R}: scalar {scalar[i]:R}, simd {simd[i]:R}");
        }

        Assert.Contains(scalar, v => v != 0f);
    }

    [Fact]
    public void SoftmaxExp_Scalar_IsCorrectlyRounded()
    {
        var x = Inputs().Where(v => v is >= -87f and <= 88f).ToArray();
        var y = new float[x.Length];

        NativeModel.SoftmaxExp(x, y, simd: false);

        for (var i = 0; i < x.Length; i++)
        {
            var exact = Math.Exp(x[i]);
            var ulp = (double)MathF.BitIncrement((float)exact) - (float)exact;
            Assert.True(Math.Abs(y[i] - exact) <= 0.5001 * ulp, $"exp({x[i]:R}) = {y[i]:R}, expected {exact:R}");
        }
    }

    [Fact]
    public void SoftmaxExp_OutsideTheFastRange_FollowsLibm()
    {
        float[] x = [float.NegativeInfinity, -100f, -87.5f, 0f, 100f, float.NaN];
        var y = new float[x.Length];

        NativeModel.SoftmaxExp(x, y, simd: false);

        Assert.Equal(0f, y[0]);
        // Both results are subnormal floats: within one subnormal step (2^-149) of exp.
        var step = (double)float.Epsilon;
        Assert.Equal(Math.Exp(-100), y[1], step);
        Assert.Equal(Math.Exp(-87.5), y[2], step);
        Assert.Equal(1f, y[3]);
        Assert.Equal(float.PositiveInfinity, y[4]);
        Assert.True(float.IsNaN(y[5]));
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
