using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.Disaggregation.Bench;
using Dynamo.Runtime.Generation;
using Dynamo.TestSupport;
using Dynamo.Worker.Api;
using Dynamo.Worker.Disaggregation;

// Prompt lengths and repeats; every repeat uses fresh random tokens, so no prefix cache helps either mode.
int[] lengths = args.Length > 0 ? [.. args[0].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] : [512, 2048];
var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;

// Real nats-server and redis-server, as a deployment has. With --unreachable-brokers the workers get dead addresses
// (the bench's old set-up): NATS.Client 0.8 then parks a thread-pool thread in a CallbackScheduler on every failed
// connect attempt, hundreds within minutes, and the starved pool delays the transfer's socket reads by seconds.
var unreachable = args.Contains("--unreachable-brokers");
await using var nats = unreachable ? null : await NatsServer.StartNewAsync();
await using var redis = unreachable ? null : await RedisServer.StartNewAsync();
var root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "Dynamo.Aspire.sln")))
{
    root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Run the bench from inside the repository.");
}

var models = Path.Combine(root, "models", "generated");

// Three servers share this process and each engine step blocks a pool thread for its whole duration.
ThreadPool.SetMinThreads(32, 32);
var kvBlocks = (lengths.Max() / 16 + 64) * 2;
await using var aggregated = await BenchWorker.StartAsync("Aggregated", models, kvBlocks, redis?.ConnectionString, nats?.Url);
await using var prefill = await BenchWorker.StartAsync("Prefill", models, kvBlocks, redis?.ConnectionString, nats?.Url);
await using var decode = await BenchWorker.StartAsync("Decode", models, kvBlocks, redis?.ConnectionString, nats?.Url);
var vocab = decode.Engine.VocabSize;
var random = new Random(20261122);

// Warm-up: JIT, connection set-up and the engine's first-use costs stay out of the figures.
try
{
    await MeasureAsync(128);
}
catch (Exception ex)
{
    Console.Error.WriteLine(ex);
    throw;
}

Console.WriteLine($"Default model, block size 16, {decode.Engine.KvBlocks.BlockBytes / 1024} KiB per block, {Environment.ProcessorCount} cores, {repeats} runs per length (median), brokers {(unreachable ? "unreachable" : "running")}");
Console.WriteLine();
Console.WriteLine("| prompt tokens | KV blocks | KV MiB | aggregated TTFT ms | disaggregated TTFT ms | prefill ms | transfer ms | first decode ms | transfer MB/s | worst transfer ms | pool threads |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var length in lengths)
{
    var runs = new List<Run>();
    for (var i = 0; i < repeats; i++)
    {
        runs.Add(await MeasureAsync(length));
    }

    var r = runs[0];
    double Median(Func<Run, double> f) => runs.Select(f).Order().ElementAt(runs.Count / 2);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {length} | {r.Blocks} | {r.Bytes / 1048576.0:0.0} | {Median(x => x.AggregatedTtft):0} | {Median(x => x.DisaggregatedTtft):0} | {Median(x => x.PrefillMs):0} | {Median(x => x.TransferMs):0.0} | {Median(x => x.FirstDecodeMs):0} | {Median(x => x.Bytes / 1e6 / (x.TransferMs / 1000)):0} | {runs.Max(x => x.TransferMs):0.0} | {ThreadPool.ThreadCount} |"));
}

async Task<Run> MeasureAsync(int length)
{
    var prompt = new int[length];
    for (var i = 0; i < length; i++)
    {
        prompt[i] = random.Next(3, vocab);
    }

    var aggregatedTtft = await FirstTokenAsync(aggregated, new { token_ids = prompt, max_tokens = 1, sampling = new { temperature = 0 } });

    // Both requests go out together, as a router sends them; the decode request's TTFT is what a client sees.
    var id = $"bench-{Guid.NewGuid():N}";
    var decoding = FirstTokenAsync(decode, new { token_ids = prompt, max_tokens = 1, sampling = new { temperature = 0 }, kv_transfer = new { transfer_id = id } });
    using var response = await prefill.Client.PostAsJsonAsync(DisaggregationApi.PrefillPath, new { token_ids = prompt, transfer_id = id, decode_url = decode.Address.ToString() });
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"prefill failed: {text}");
    }

    var result = JsonSerializer.Deserialize(text, GenerateJsonContext.Default.PrefillResult)!;
    var ttft = await decoding;
    return new Run(result.Blocks, result.Bytes, aggregatedTtft, ttft, result.PrefillMs, result.TransferMs, ttft - result.PrefillMs - result.TransferMs);
}

static async Task<double> FirstTokenAsync(BenchWorker worker, object body)
{
    var started = Stopwatch.GetTimestamp();
    using var request = new HttpRequestMessage(HttpMethod.Post, GenerateApi.Path)
    {
        Content = JsonContent.Create(body),
        Version = System.Net.HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
    using var response = await worker.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
    while (await reader.ReadLineAsync() is { } line)
    {
        if (line.StartsWith("data: ", StringComparison.Ordinal))
        {
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await reader.ReadToEndAsync();
            return elapsed;
        }

        if (line.StartsWith("event: error", StringComparison.Ordinal))
        {
            throw new InvalidOperationException(await reader.ReadToEndAsync());
        }
    }

    throw new InvalidOperationException($"{(int)response.StatusCode}: no token came back");
}

internal sealed record Run(int Blocks, long Bytes, double AggregatedTtft, double DisaggregatedTtft, double PrefillMs, double TransferMs, double FirstDecodeMs);
