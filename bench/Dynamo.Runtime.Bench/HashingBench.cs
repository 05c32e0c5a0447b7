using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Dynamo.Runtime.Hashing;

namespace Dynamo.Runtime.Bench;

/// <summary>XXH3-64 against the framework's SHA-256 on token-id bytes, plus block hashing of a long prompt.</summary>
internal static class HashingBench
{
    public static IEnumerable<BenchRow> Run()
    {
        var random = new Random(1337);
        foreach (var size in new[] { 4 * 1024, 64 * 1024, 1024 * 1024 })
        {
            var tokens = new int[size / sizeof(int)];
            for (var i = 0; i < tokens.Length; i++)
            {
                tokens[i] = random.Next(0, 128_256);
            }

            var bytes = MemoryMarshal.AsBytes(tokens.AsSpan()).ToArray();
            var label = size >= 1024 * 1024 ? $"{size / (1024 * 1024)} MB" : $"{size / 1024} KB";
            var xxh = Throughput(bytes, 512L * 1024 * 1024, static b => Xxh3.Hash64(b, KvBlockHashing.DefaultSeed));
            var scalar = Throughput(bytes, 256L * 1024 * 1024, static b => Xxh3.Hash64(b, KvBlockHashing.DefaultSeed, Xxh3Simd.Scalar));
            var sha = Throughput(bytes, 128L * 1024 * 1024, static b => SHA256.HashData(b)[0]);
            yield return new BenchRow($"XXH3-64 {label} ({Xxh3.BestSimd})", BenchRow.F(xxh), "GB/s", $"{BenchRow.F(xxh / sha, "0.0")}x SHA-256");
            yield return new BenchRow($"XXH3-64 {label} (scalar)", BenchRow.F(scalar), "GB/s", $"{BenchRow.F(xxh / scalar, "0.0")}x slower than {Xxh3.BestSimd}");
            yield return new BenchRow($"SHA-256 {label}", BenchRow.F(sha), "GB/s", "System.Security.Cryptography");
        }

        // A 32k-token prompt cut into 16-token blocks: local hashes + chain, the router's per-request hashing cost.
        var prompt = Enumerable.Range(0, 32_768).Select(i => (i * 7919) % 128_256).ToArray();
        var local = new ulong[prompt.Length / 16];
        var sequence = new ulong[local.Length];
        const int rounds = 2_000;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < rounds; i++)
        {
            KvBlockHashing.ComputeLocalHashes(prompt, 16, local);
            KvBlockHashing.ChainSequenceHashes(local, sequence);
        }

        var perPrompt = Stopwatch.GetElapsedTime(start).TotalMicroseconds / rounds;
        yield return new BenchRow("Block hashes, 32k-token prompt, B=16", BenchRow.F(perPrompt, "0.0"), "µs", $"{local.Length} blocks, local + chained");
    }

    /// <summary>Hashes <paramref name="data"/> until <paramref name="totalBytes"/> were processed; returns GB/s.</summary>
    private static double Throughput(byte[] data, long totalBytes, Func<byte[], ulong> hash)
    {
        ulong sink = 0;
        for (var i = 0; i < 3; i++)
        {
            sink ^= hash(data);
        }

        var iterations = Math.Max(1, totalBytes / data.Length);
        var start = Stopwatch.GetTimestamp();
        for (long i = 0; i < iterations; i++)
        {
            sink ^= hash(data);
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        GC.KeepAlive(sink);
        return iterations * (double)data.Length / seconds / 1e9;
    }
}
