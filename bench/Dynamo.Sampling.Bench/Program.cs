using System.Diagnostics;
using System.Globalization;
using Dynamo.Worker.Engines.Sampling;

// Microseconds per Sampler.Sample call for one sequence, by vocabulary size and parameters.
// Run: dotnet run -c Release --project bench/Dynamo.Sampling.Bench [-- iterations]
var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 400;
var history = new TokenCounts(expectedDistinctTokens: 2048);
var prompt = new int[1000];
for (var i = 0; i < prompt.Length; i++)
{
    prompt[i] = (i * 7919) % 30_000;
}

history.AddPrompt(prompt);
for (var i = 0; i < 200; i++)
{
    history.AddOutput((i * 104_729) % 30_000);
}

(string Name, SamplingParams Params)[] cases =
[
    ("greedy", SamplingParams.Greedy),
    ("greedy + logprobs(5)", SamplingParams.Greedy with { Logprobs = true, TopLogprobs = 5 }),
    ("temperature 0.8", new SamplingParams(Temperature: 0.8f)),
    ("top-k 50", new SamplingParams(Temperature: 0.8f, TopK: 50)),
    ("top-p 0.9", new SamplingParams(Temperature: 0.8f, TopP: 0.9f)),
    ("top-p 0.9 + logprobs(20)", new SamplingParams(Temperature: 0.8f, TopP: 0.9f, Logprobs: true, TopLogprobs: 20)),
    ("top-k 50 + top-p 0.95 + min-p 0.05", new SamplingParams(Temperature: 0.8f, TopK: 50, TopP: 0.95f, MinP: 0.05f)),
    ("penalties + bias + top-p 0.9", new SamplingParams(
        Temperature: 0.8f, TopP: 0.9f, RepetitionPenalty: 1.1f, PresencePenalty: 0.5f, FrequencyPenalty: 0.5f,
        LogitBias: [new(17, 5f), new(99, -100f)])),
];

int[] vocabSizes = [32_000, 152_064];
var top = new TokenLogprob[SamplingParams.MaxTopLogprobs];
Console.WriteLine($"Sampler.Sample, µs per call: median wall / mean process CPU over {iterations} calls; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine();
Console.WriteLine($"| {"case",-36} | {"vocab 32k",19} | {"vocab 152k",19} |");
Console.WriteLine($"|{new string('-', 38)}|{new string('-', 21)}|{new string('-', 21)}|");
var logitSets = vocabSizes.Select(v => GaussianLogits(v, seed: 1)).ToArray();
foreach (var (name, p) in cases)
{
    var cells = new string[vocabSizes.Length];
    for (var v = 0; v < vocabSizes.Length; v++)
    {
        var sampler = new Sampler(vocabSizes[v]);
        var rng = new SamplingRng(42);
        var logits = logitSets[v];
        var times = new double[iterations];
        for (var i = 0; i < iterations / 4; i++)
        {
            sampler.Sample(logits, p, history, rng, top);
        }

        // Thread CPU time as well as wall time: on a shared machine the wall clock also counts time spent waiting.
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            sampler.Sample(logits, p, history, rng, top);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalMicroseconds / iterations;
        Array.Sort(times);
        cells[v] = string.Create(CultureInfo.InvariantCulture, $"{times[iterations / 2],8:F1} / {cpu,8:F1}");
    }

    Console.WriteLine($"| {name,-36} | {cells[0],19} | {cells[1],19} |");
}

// Gaussian logits (std 2.5) stand in for a model's: a few dominant tokens over a long tail.
static float[] GaussianLogits(int vocabSize, ulong seed)
{
    var rng = new SamplingRng(seed);
    var logits = new float[vocabSize];
    for (var i = 0; i < vocabSize; i++)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        logits[i] = (float)(2.5 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    return logits;
}
