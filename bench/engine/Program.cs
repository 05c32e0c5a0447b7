using System.Diagnostics;
using Dynamo.Engine.Bench;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Models;

// Native engine throughput on the default generated model (or --model PATH):
// decode tokens/s at several batch sizes, prefill tokens/s for a 512-token prompt,
// and the fraction of measured memory bandwidth the weight reads use.
var options = BenchOptions.Parse(args);
var modelPath = options.ModelPath ?? LlamaModelGenerator.EnsureDefaultModel(Path.Combine(BenchOptions.RepoRoot(), "models", "generated"));
using var model = NativeModel.Load(modelPath);
var info = model.Info;
var maxBatch = Math.Max(512, options.DecodeBatches.Max());
const int WarmupSteps = 4;
var blocksPerSeq = (options.PromptTokens + WarmupSteps + options.DecodeSteps + 15) / 16 + 1;
var maxSeqs = Math.Max(options.DecodeBatches.Max(), 1);
using var pool = NativeKvPool.Create(model, (blocksPerSeq * maxSeqs) + (options.PrefillTokens / 16) + 2, 16, NativeKvType.F32);
using var engine = NativeEngine.Create(model, pool, new NativeEngineOptions { MaxBatchTokens = maxBatch, MaxContext = Math.Max(4096, options.PrefillTokens + 16), Threads = options.Threads, SpinMicroseconds = options.SpinMicroseconds, StepSpinMicroseconds = options.StepSpinMicroseconds });

var bandwidth = Memory.MeasureCopyBandwidth();
Console.WriteLine($"model      {Path.GetFileName(modelPath)}: {info.Architecture}, {info.ParameterCount / 1e6:F1}M params, {info.WeightType}, {info.WeightBytes / 1048576.0:F1} MiB of weights read per step");
Console.WriteLine($"machine    {Environment.ProcessorCount} cores, {engine.Threads} engine threads (spin {engine.SpinMicroseconds} µs, in-step {engine.StepSpinMicroseconds} µs), kernels {NativeModel.KernelsName}, memcpy {bandwidth / 1e9:F1} GB/s (read+write)");
Console.WriteLine();
Console.WriteLine($"{"scenario",-28} {"tokens/s",12} {"ms/step",10} {"bandwidth",10} {"cores busy",11}");
Console.WriteLine(new string('-', 75));
var cpu = CpuMeter.Start();
var whole = cpu;

var logits = new float[maxSeqs * info.VocabSize];
var batch = new NativeBatch(maxBatch, maxSeqs, maxSeqs * blocksPerSeq);
foreach (var b in options.DecodeBatches)
{
    // Prefill every sequence's prompt, then time decode steps of b tokens each.
    var tables = Enumerable.Range(0, b).Select(s => Enumerable.Range(s * blocksPerSeq, blocksPerSeq).ToArray()).ToArray();
    for (var s = 0; s < b; s++)
    {
        batch.Clear();
        batch.Add(Prompt(options.PromptTokens, s), 0, tables[s], wantLogits: false);
        engine.Step(batch, logits);
    }

    // A few untimed steps, then the median step: bursts of load from other processes on a
    // shared machine move the figure less (bench/engine/llamacpp/harness.cpp measures alike).
    var times = new List<double>();
    var cpuTimes = new List<double>();
    cpu = CpuMeter.Start();
    for (var step = 0; step < WarmupSteps + options.DecodeSteps; step++)
    {
        batch.Clear();
        for (var s = 0; s < b; s++)
        {
            batch.Add([1 + ((step * 31) + s) % 1000], options.PromptTokens + step, tables[s], wantLogits: true);
        }

        var cpuBefore = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        engine.Step(batch, logits);
        if (step >= WarmupSteps)
        {
            times.Add(watch.Elapsed.TotalSeconds);
            cpuTimes.Add((Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds);
        }
    }

    var steps = 1 / Median(times);
    Report($"decode batch {b}", $"decode{b}", b * steps, 1000 / steps, info.WeightBytes * steps / bandwidth, cpu.CoresBusy());
    ReportCpu($"cpudecode{b}", b / Median(cpuTimes));
}

var prefillTable = Enumerable.Range(maxSeqs * blocksPerSeq, (options.PrefillTokens / 16) + 1).ToArray();
var prompt = Prompt(options.PrefillTokens, 99);
var prefillTimes = new List<double>();
var prefillCpuTimes = new List<double>();
cpu = CpuMeter.Start();
for (var run = 0; run < 4; run++)
{
    batch.Clear();
    batch.Add(prompt, 0, prefillTable, wantLogits: true);
    var cpuBefore = Environment.CpuUsage.TotalTime;
    var watch = Stopwatch.StartNew();
    engine.Step(batch, logits);
    if (run > 0)
    {
        prefillTimes.Add(watch.Elapsed.TotalSeconds);
        prefillCpuTimes.Add((Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds);
    }
}

var prefill = Median(prefillTimes);
Report($"prefill {options.PrefillTokens} tokens", $"prefill{options.PrefillTokens}", options.PrefillTokens / prefill, prefill * 1000, info.WeightBytes / prefill / bandwidth, cpu.CoresBusy());
ReportCpu($"cpuprefill{options.PrefillTokens}", options.PrefillTokens / Median(prefillCpuTimes));

// Machine-readable lines for bench/engine/compare.sh.
Console.WriteLine(FormattableString.Invariant($"RESULT weightbytes {info.WeightBytes}"));
Console.WriteLine(FormattableString.Invariant($"RESULT bandwidth {bandwidth:F0}"));
Console.WriteLine(FormattableString.Invariant($"RESULT coresbusy {whole.CoresBusy():F3}"));
return 0;

static double Median(List<double> values)
{
    values.Sort();
    var n = values.Count;
    return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
}

static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => 1 + (((i * 7919) + (salt * 104729)) % 31990)).ToArray();

// Tokens per CPU-second of the whole process: with one engine thread, the engine's own work,
// which the load from other processes on a shared machine barely moves (compare.sh CPU table).
static void ReportCpu(string key, double tokensPerCpuSecond) =>
    Console.WriteLine(FormattableString.Invariant($"RESULT {key} {tokensPerCpuSecond:F3}"));

// "cores busy" is process CPU time over wall time: below the thread count means the
// machine was shared and the wall-clock rates understate the engine.
static void Report(string scenario, string key, double tokensPerSecond, double msPerStep, double bandwidthFraction, double coresBusy)
{
    Console.WriteLine($"{scenario,-28} {tokensPerSecond,12:F1} {msPerStep,10:F2} {bandwidthFraction,9:P1} {coresBusy,11:F2}");
    Console.WriteLine(FormattableString.Invariant($"RESULT {key} {tokensPerSecond:F3}"));
}
