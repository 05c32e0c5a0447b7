namespace Dynamo.Engine.Bench;

internal sealed record BenchOptions(string? ModelPath, int Threads, int[] DecodeBatches, int DecodeSteps, int PromptTokens, int PrefillTokens, int? SpinMicroseconds, int? StepSpinMicroseconds)
{
    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions(null, 0, [1, 8, 32], 32, 32, 512, null, null);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            o = args[i] switch
            {
                "--model" => o with { ModelPath = args[i + 1] },
                "--threads" => o with { Threads = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) },
                "--batches" => o with { DecodeBatches = args[i + 1].Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray() },
                "--steps" => o with { DecodeSteps = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) },
                "--prefill" => o with { PrefillTokens = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) },
                "--spin-us" => o with { SpinMicroseconds = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) },
                "--step-spin-us" => o with { StepSpinMicroseconds = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"Unknown option {args[i]} (--model, --threads, --batches 1,8,32, --steps, --prefill, --spin-us, --step-spin-us)."),
            };
        }

        return o;
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dynamo.Aspire.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}

internal static class Memory
{
    /// <summary>Bytes moved per second (read + write) by large copies: the ceiling for streaming weights.</summary>
    public static double MeasureCopyBandwidth()
    {
        const int size = 256 << 20;
        var src = GC.AllocateUninitializedArray<byte>(size);
        var dst = GC.AllocateUninitializedArray<byte>(size);
        src.AsSpan().Fill(1);
        dst.AsSpan().Fill(0);
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            src.AsSpan().CopyTo(dst);
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        return 2.0 * size / best;
    }
}

internal readonly record struct CpuMeter(TimeSpan Cpu, long Ticks)
{
    public static CpuMeter Start() => new(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime, System.Diagnostics.Stopwatch.GetTimestamp());

    public double CoresBusy() =>
        (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - Cpu).TotalSeconds /
        System.Diagnostics.Stopwatch.GetElapsedTime(Ticks).TotalSeconds;
}
