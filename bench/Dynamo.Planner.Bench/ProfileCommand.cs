using System.Globalization;
using System.Threading.Channels;
using Dynamo.Planner.Profiling;
using Dynamo.Runtime.Contracts;
using Dynamo.Worker.Engines.Mocker;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Models;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Planner.Bench;

/// <summary>
/// <c>profile --engine mocker|native [--out PATH] [--speed-up X] [--kv-blocks N --block-size T]</c>: drives a worker's scheduler and engine in process
/// and measures (1) time to the first token of one request on an idle engine against prompt length and (2) decode step
/// time against batch size and context, read as the gap between a request's tokens once every sequence of the batch is
/// decoding. The mocker runs <c>speed-up</c> times faster than its model and measured times are multiplied back.
/// </summary>
internal static class ProfileCommand
{
    private const int MaxBatchedTokens = 8192;
    private const int DecodeGaps = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        var engine = Option(args, "--engine") ?? "mocker";
        var output = Option(args, "--out") ?? $"{engine}-profile.json";
        var speedUp = double.Parse(Option(args, "--speed-up") ?? (engine == "mocker" ? "5" : "1"), CultureInfo.InvariantCulture);
        var blocks = int.Parse(Option(args, "--kv-blocks") ?? "16384", CultureInfo.InvariantCulture);
        var blockSize = int.Parse(Option(args, "--block-size") ?? "64", CultureInfo.InvariantCulture);
        using var stack = engine switch
        {
            "mocker" => EngineStack.Mocker(speedUp, blocks, blockSize),
            "native" => EngineStack.Native(),
            _ => throw new ArgumentException($"Unknown engine '{engine}'; profile --engine mocker|native."),
        };

        EngineProfile profile;
        try
        {
            profile = await MeasureAsync(stack, engine, Console.WriteLine);
        }
        catch (InvalidDataException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }

        profile.Save(output);
        Console.WriteLine($"Wrote {Path.GetFullPath(output)}");
        return 0;
    }

    /// <summary>Measures prefill against prompt length and decode step time against batch and context, in engine milliseconds.</summary>
    /// <exception cref="InvalidDataException">The measurements do not make a usable profile.</exception>
    public static async Task<EngineProfile> MeasureAsync(EngineStack stack, string engine, Action<string> log)
    {
        log($"Profiling {stack.Description}");
        var prefill = new List<PrefillPoint>();
        var seed = 0;
        await MeasureTtftAsync(stack, 16, seed++);
        foreach (var isl in stack.PrefillLengths.Where(l => l <= stack.KvCapacityTokens * 9 / 10))
        {
            var samples = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                samples.Add(await MeasureTtftAsync(stack, isl, seed++) * stack.TimeScale);
            }

            prefill.Add(new PrefillPoint(isl, Median(samples)));
            log(string.Create(CultureInfo.InvariantCulture, $"prefill ISL {isl,6}: {prefill[^1].Milliseconds,8:0.00} ms"));
        }

        var decode = new List<DecodePoint>();
        foreach (var context in stack.DecodeContexts)
        {
            foreach (var batch in stack.DecodeBatches)
            {
                var tokensPerSeq = context + DecodeGaps + PrefillSteps(batch, context) + 4;
                if ((long)batch * tokensPerSeq > stack.KvCapacityTokens * 9 / 10)
                {
                    log($"decode batch {batch,4} × context {context,5}: skipped (exceeds 90% of {stack.KvCapacityTokens} KV tokens)");
                    continue;
                }

                var ms = await MeasureStepAsync(stack, batch, context, seed) * stack.TimeScale;
                seed += batch;
                decode.Add(new DecodePoint(batch, context, ms));
                log(string.Create(CultureInfo.InvariantCulture, $"decode batch {batch,4} × context {context,5}: {ms,8:0.00} ms/step"));
            }
        }

        var profile = new EngineProfile(engine, stack.Description, DateTimeOffset.UtcNow, MaxBatchedTokens, stack.KvCapacityTokens, prefill, decode);
        var errors = profile.Validate();
        return errors.Count == 0 ? profile : throw new InvalidDataException("The measurements do not make a usable profile: " + string.Join(" ", errors));
    }

    private static int PrefillSteps(int batch, int context) => (int)Math.Ceiling((double)batch * context / MaxBatchedTokens) + 1;

    /// <summary>Milliseconds from submit to the first token of one request with a distinct prompt on an idle engine.</summary>
    private static async Task<double> MeasureTtftAsync(EngineStack stack, int isl, int seed)
    {
        using var scheduler = stack.CreateScheduler();
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => scheduler.RunAsync(stop.Token));
        var started = TimeProvider.System.GetTimestamp();
        var reader = scheduler.Submit(new SchedulerRequest($"ttft-{seed}", Prompt(isl, seed, stack.VocabSize), 1, SamplingParams.Greedy));
        await reader.ReadAsync();
        var elapsed = TimeProvider.System.GetElapsedTime(started).TotalMilliseconds;
        await Drain(reader);
        await stop.CancelAsync();
        await loop;
        return elapsed;
    }

    /// <summary>Median gap between the last-submitted request's tokens, while all <paramref name="batch"/> sequences decode.</summary>
    private static async Task<double> MeasureStepAsync(EngineStack stack, int batch, int context, int seed)
    {
        using var scheduler = stack.CreateScheduler();
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => scheduler.RunAsync(stop.Token));
        var maxTokens = DecodeGaps + PrefillSteps(batch, context) + 4;
        var readers = new List<ChannelReader<SchedulerOutput>>(batch);
        for (var i = 0; i < batch; i++)
        {
            readers.Add(scheduler.Submit(new SchedulerRequest($"decode-{seed + i}", Prompt(context, seed + i, stack.VocabSize), maxTokens, SamplingParams.Greedy)));
        }

        // Requests are prefilled in submission order, so once the last one has its first token every sequence decodes.
        var others = readers.Take(batch - 1).Select(Drain).ToList();
        var last = readers[^1];
        await last.ReadAsync();
        var previous = TimeProvider.System.GetTimestamp();
        var gaps = new List<double>(DecodeGaps);
        for (var i = 0; i < DecodeGaps; i++)
        {
            await last.ReadAsync();
            var now = TimeProvider.System.GetTimestamp();
            gaps.Add(TimeProvider.System.GetElapsedTime(previous, now).TotalMilliseconds);
            previous = now;
        }

        await Drain(last);
        await Task.WhenAll(others);
        await stop.CancelAsync();
        await loop;
        return Median(gaps);
    }

    private static async Task Drain(ChannelReader<SchedulerOutput> reader)
    {
        await foreach (var _ in reader.ReadAllAsync())
        {
        }
    }

    private static int[] Prompt(int length, int seed, int vocab)
    {
        var prompt = new int[length];
        for (var i = 0; i < length; i++)
        {
            prompt[i] = 3 + (int)(((seed + 1L) * 7_919L + i * 104_729L) % (vocab - 3));
        }

        return prompt;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }

    internal static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

internal sealed class NoKvEvents : IKvEventSink
{
    public void Publish(KvEventBatch batch)
    {
    }
}
