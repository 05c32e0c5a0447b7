using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Dynamo.Gateway.Bench;
using Dynamo.TestSupport;

// Bounded: requests × 3 paths, a minute or two on a shared 2-core box.
var nginx = Option("--nginx") ?? "/usr/sbin/nginx";
var fullPath = args.Contains("--full-path");
var requests = int.Parse(Option("--requests") ?? (fullPath ? "300" : "2000"), CultureInfo.InvariantCulture);
var concurrency = int.Parse(Option("--concurrency") ?? "8", CultureInfo.InvariantCulture);
const string Model = "bench-model";
const int Rounds = 5;

await using var redis = await RedisServer.StartNewAsync();
await using var nats = await NatsServer.StartNewAsync();
using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 256 }) { Timeout = TimeSpan.FromSeconds(30) };
if (fullPath)
{
    await FullPathBench.RunAsync(redis.ConnectionString, nats.Url, requests, MeasureAsync);
    return;
}

await using var backend = await SseBackend.StartAsync();
await using var gateway = await GatewayHost.StartAsync(redis.ConnectionString, nats.Url, Model, backend.Address, limits: true);
await using var unlimited = await GatewayHost.StartAsync(redis.ConnectionString, nats.Url, Model, backend.Address, limits: false);
await using var proxy = await NginxProxy.StartAsync(nginx, backend.Address);
var body = Encoding.UTF8.GetBytes($$"""{"model":"{{Model}}","stream":true,"messages":[{"role":"user","content":"Say hello."}]}""");
var paths = new (string Name, Uri Url)[]
{
    ("direct (backend)", new Uri(backend.Address, "/v1/chat/completions")),
    ("Dynamo.Gateway", new Uri(gateway.Address, "/v1/chat/completions")),
    ("Dynamo.Gateway, limits off", new Uri(unlimited.Address, "/v1/chat/completions")),
    ("nginx 1.22", new Uri(proxy.Address, "v1/chat/completions")),
};

foreach (var (_, url) in paths)
{
    await MeasureAsync(url, body, 200, 4);
}

var sequential = paths.ToDictionary(p => p.Name, _ => new List<double>());
var concurrent = paths.ToDictionary(p => p.Name, _ => new List<double>());
var elapsed = paths.ToDictionary(p => p.Name, _ => TimeSpan.Zero);
for (var round = 0; round < Rounds; round++)
{
    // Interleaved rounds, so drift in the shared machine's load falls on every path alike.
    foreach (var (name, url) in paths)
    {
        sequential[name].AddRange(await MeasureAsync(url, body, requests / Rounds, 1));
        var clock = Stopwatch.StartNew();
        concurrent[name].AddRange(await MeasureAsync(url, body, requests / Rounds, concurrency));
        elapsed[name] += clock.Elapsed;
    }
}

Console.WriteLine();
Console.WriteLine($"Dynamo.Gateway.Bench — time to first streamed byte (µs), {requests} requests per path and mode, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
Console.WriteLine($"| path | sequential p50 | sequential p99 | added p50 / p99 vs direct | {concurrency} concurrent p50 | {concurrency} concurrent p99 | added p50 / p99 vs direct | req/s at {concurrency} concurrent |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
var direct = paths[0].Name;
foreach (var (name, _) in paths)
{
    var s = Percentiles(sequential[name]);
    var c = Percentiles(concurrent[name]);
    var sd = Percentiles(sequential[direct]);
    var cd = Percentiles(concurrent[direct]);
    var added = name == direct ? "—" : $"{F(s.P50 - sd.P50)} / {F(s.P99 - sd.P99)}";
    var addedConcurrent = name == direct ? "—" : $"{F(c.P50 - cd.P50)} / {F(c.P99 - cd.P99)}";
    Console.WriteLine($"| {name} | {F(s.P50)} | {F(s.P99)} | {added} | {F(c.P50)} | {F(c.P99)} | {addedConcurrent} | {F(concurrent[name].Count / elapsed[name].TotalSeconds)} |");
}

async Task<List<double>> MeasureAsync(Uri url, byte[] payload, int count, int parallel)
{
    var samples = new List<double>(count);
    var next = 0;
    await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
    {
        var buffer = new byte[16 * 1024];
        while (Interlocked.Increment(ref next) <= count)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(payload) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.ApiKey);
            var start = Stopwatch.GetTimestamp();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync();
            if (await stream.ReadAsync(buffer) == 0)
            {
                throw new InvalidOperationException($"{url} sent an empty body.");
            }

            var firstByte = Stopwatch.GetElapsedTime(start);
            if (response.Headers.TryGetValues(StageSplit.HeaderName, out var stages))
            {
                StageSplit.Record(url, stages);
            }

            while (await stream.ReadAsync(buffer) > 0)
            {
            }

            lock (samples)
            {
                samples.Add(firstByte.TotalMicroseconds);
            }
        }
    }));
    return samples;
}

static (double P50, double P99) Percentiles(List<double> samples) => FullPathBench.Percentiles(samples);

static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
