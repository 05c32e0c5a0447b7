using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dynamo.Runtime.Hashing;

/// <summary>Instruction set used by the XXH3 long-input accumulator loop.</summary>
internal enum Xxh3Simd
{
    Scalar,
    Sse2,
    Avx2,
}

public static partial class Xxh3
{
    private const int StripeLength = 64;
    private const int SecretConsumeRate = 8;
    private const int AccumulatorCount = 8;
    private const int DefaultSecretSize = 192;
    private const int SecretLastAccStart = 7;
    private const int SecretMergeAccsStart = 11;

    internal static Xxh3Simd BestSimd { get; } =
        Avx2.IsSupported ? Xxh3Simd.Avx2 : Sse2.IsSupported ? Xxh3Simd.Sse2 : Xxh3Simd.Scalar;

    private static ulong HashLong(ReadOnlySpan<byte> data, ulong seed, Xxh3Simd simd)
    {
        scoped ReadOnlySpan<byte> secret = DefaultSecret;
        Span<byte> custom = stackalloc byte[DefaultSecretSize];
        if (seed != 0)
        {
            // A seeded long hash runs on a secret derived from the default one (XXH3_initCustomSecret).
            for (var i = 0; i < DefaultSecretSize; i += 16)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(custom[i..], ReadU64(secret, i) + seed);
                BinaryPrimitives.WriteUInt64LittleEndian(custom[(i + 8)..], ReadU64(secret, i + 8) - seed);
            }

            secret = custom;
        }

        Span<ulong> acc = stackalloc ulong[AccumulatorCount];
        acc[0] = Prime32_3;
        acc[1] = Prime64_1;
        acc[2] = Prime64_2;
        acc[3] = Prime64_3;
        acc[4] = Prime64_4;
        acc[5] = Prime32_2;
        acc[6] = Prime64_5;
        acc[7] = Prime32_1;

        var len = data.Length;
        var stripesPerBlock = (secret.Length - StripeLength) / SecretConsumeRate;
        var blockLength = StripeLength * stripesPerBlock;
        var blocks = (len - 1) / blockLength;
        var scrambleSecret = secret[(secret.Length - StripeLength)..];
        for (var n = 0; n < blocks; n++)
        {
            Accumulate(acc, data[(n * blockLength)..], secret, stripesPerBlock, simd);
            Scramble(acc, scrambleSecret, simd);
        }

        var lastStripes = ((len - 1) - (blockLength * blocks)) / StripeLength;
        Accumulate(acc, data[(blocks * blockLength)..], secret, lastStripes, simd);

        // The final stripe always ends at the last byte, overlapping earlier input when needed.
        Accumulate(acc, data[(len - StripeLength)..], secret[(secret.Length - StripeLength - SecretLastAccStart)..], 1, simd);

        var result = (ulong)len * Prime64_1;
        for (var i = 0; i < 4; i++)
        {
            var s = SecretMergeAccsStart + (16 * i);
            result += Mul128Fold64(acc[2 * i] ^ ReadU64(secret, s), acc[(2 * i) + 1] ^ ReadU64(secret, s + 8));
        }

        return Avalanche(result);
    }

    private static void Accumulate(Span<ulong> acc, ReadOnlySpan<byte> input, ReadOnlySpan<byte> secret, int stripes, Xxh3Simd simd)
    {
        if (stripes == 0)
        {
            return;
        }

        switch (simd)
        {
            case Xxh3Simd.Avx2 when Avx2.IsSupported:
                AccumulateAvx2(acc, input, secret, stripes);
                break;
            case Xxh3Simd.Sse2 when Sse2.IsSupported:
                AccumulateSse2(acc, input, secret, stripes);
                break;
            default:
                AccumulateScalar(acc, input, secret, stripes);
                break;
        }
    }

    private static void Scramble(Span<ulong> acc, ReadOnlySpan<byte> secret, Xxh3Simd simd)
    {
        switch (simd)
        {
            case Xxh3Simd.Avx2 when Avx2.IsSupported:
                ScrambleAvx2(acc, secret);
                break;
            case Xxh3Simd.Sse2 when Sse2.IsSupported:
                ScrambleSse2(acc, secret);
                break;
            default:
                ScrambleScalar(acc, secret);
                break;
        }
    }

    private static void AccumulateScalar(Span<ulong> acc, ReadOnlySpan<byte> input, ReadOnlySpan<byte> secret, int stripes)
    {
        for (var n = 0; n < stripes; n++)
        {
            var stripe = input.Slice(n * StripeLength, StripeLength);
            var key = secret.Slice(n * SecretConsumeRate, StripeLength);
            for (var i = 0; i < AccumulatorCount; i++)
            {
                var dataVal = ReadU64(stripe, 8 * i);
                var dataKey = dataVal ^ ReadU64(key, 8 * i);
                acc[i ^ 1] += dataVal;
                acc[i] += (uint)dataKey * (dataKey >> 32);
            }
        }
    }

    private static void ScrambleScalar(Span<ulong> acc, ReadOnlySpan<byte> secret)
    {
        for (var i = 0; i < AccumulatorCount; i++)
        {
            var a = acc[i];
            a ^= a >> 47;
            a ^= ReadU64(secret, 8 * i);
            acc[i] = a * Prime32_1;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateAvx2(Span<ulong> acc, ReadOnlySpan<byte> input, ReadOnlySpan<byte> secret, int stripes)
    {
        // Bounds are checked once here; the loop reads stripes * 64 input bytes and (stripes - 1) * 8 + 64 secret bytes.
        if (input.Length < stripes * StripeLength || secret.Length < ((stripes - 1) * SecretConsumeRate) + StripeLength)
        {
            throw new ArgumentOutOfRangeException(nameof(stripes));
        }

        ref var accRef = ref MemoryMarshal.GetReference(acc);
        ref var inRef = ref MemoryMarshal.GetReference(input);
        ref var secRef = ref MemoryMarshal.GetReference(secret);
        var a0 = Vector256.LoadUnsafe(ref accRef);
        var a1 = Vector256.LoadUnsafe(ref accRef, 4);
        for (var n = 0; n < stripes; n++)
        {
            var inOffset = (nuint)(n * StripeLength);
            var secOffset = (nuint)(n * SecretConsumeRate);
            a0 = Avx2Round(a0, Vector256.LoadUnsafe(ref inRef, inOffset).AsUInt64(), Vector256.LoadUnsafe(ref secRef, secOffset).AsUInt64());
            a1 = Avx2Round(a1, Vector256.LoadUnsafe(ref inRef, inOffset + 32).AsUInt64(), Vector256.LoadUnsafe(ref secRef, secOffset + 32).AsUInt64());
        }

        a0.StoreUnsafe(ref accRef);
        a1.StoreUnsafe(ref accRef, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Avx2Round(Vector256<ulong> acc, Vector256<ulong> data, Vector256<ulong> key)
    {
        var dataKey = data ^ key;
        var product = Avx2.Multiply(dataKey.AsUInt32(), Avx2.ShiftRightLogical(dataKey, 32).AsUInt32());

        // 0x4E = _MM_SHUFFLE(1, 0, 3, 2): swaps the two 64-bit lanes of each 128-bit half (acc[i ^ 1] += data[i]).
        var swapped = Avx2.Shuffle(data.AsUInt32(), 0x4E).AsUInt64();
        return acc + product + swapped;
    }

    private static void ScrambleAvx2(Span<ulong> acc, ReadOnlySpan<byte> secret)
    {
        ref var accRef = ref MemoryMarshal.GetReference(acc);
        var prime = Vector256.Create((uint)Prime32_1);
        for (nuint i = 0; i < AccumulatorCount; i += 4)
        {
            var a = Vector256.LoadUnsafe(ref accRef, i);
            a ^= Avx2.ShiftRightLogical(a, 47);
            a ^= Vector256.Create(secret.Slice((int)i * 8, 32)).AsUInt64();
            var low = Avx2.Multiply(a.AsUInt32(), prime);
            var high = Avx2.Multiply(Avx2.ShiftRightLogical(a, 32).AsUInt32(), prime);
            (low + Avx2.ShiftLeftLogical(high, 32)).StoreUnsafe(ref accRef, i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateSse2(Span<ulong> acc, ReadOnlySpan<byte> input, ReadOnlySpan<byte> secret, int stripes)
    {
        if (input.Length < stripes * StripeLength || secret.Length < ((stripes - 1) * SecretConsumeRate) + StripeLength)
        {
            throw new ArgumentOutOfRangeException(nameof(stripes));
        }

        ref var accRef = ref MemoryMarshal.GetReference(acc);
        ref var inRef = ref MemoryMarshal.GetReference(input);
        ref var secRef = ref MemoryMarshal.GetReference(secret);
        for (nuint lane = 0; lane < AccumulatorCount; lane += 2)
        {
            var a = Vector128.LoadUnsafe(ref accRef, lane);
            for (var n = 0; n < stripes; n++)
            {
                var data = Vector128.LoadUnsafe(ref inRef, (nuint)(n * StripeLength) + (lane * 8)).AsUInt64();
                var key = Vector128.LoadUnsafe(ref secRef, (nuint)(n * SecretConsumeRate) + (lane * 8)).AsUInt64();
                var dataKey = data ^ key;
                var product = Sse2.Multiply(dataKey.AsUInt32(), Sse2.ShiftRightLogical(dataKey, 32).AsUInt32());
                a += product + Sse2.Shuffle(data.AsUInt32(), 0x4E).AsUInt64();
            }

            a.StoreUnsafe(ref accRef, lane);
        }
    }

    private static void ScrambleSse2(Span<ulong> acc, ReadOnlySpan<byte> secret)
    {
        ref var accRef = ref MemoryMarshal.GetReference(acc);
        var prime = Vector128.Create((uint)Prime32_1);
        for (nuint i = 0; i < AccumulatorCount; i += 2)
        {
            var a = Vector128.LoadUnsafe(ref accRef, i);
            a ^= Sse2.ShiftRightLogical(a, 47);
            a ^= Vector128.Create(secret.Slice((int)i * 8, 16)).AsUInt64();
            var low = Sse2.Multiply(a.AsUInt32(), prime);
            var high = Sse2.Multiply(Sse2.ShiftRightLogical(a, 32).AsUInt32(), prime);
            (low + Sse2.ShiftLeftLogical(high, 32)).StoreUnsafe(ref accRef, i);
        }
    }
}
