using System.Globalization;
using System.Text;

namespace Dynamo.Gateway.Bench;

/// <summary>
/// <c>--full-path</c>: time to first streamed byte of one request through the real serving path — worker directly,
/// router → worker, and gateway → router → worker (with the gateway's Redis-counted limits on, and off) — so the
/// latency each hop adds is visible.
/// </summary>
internal static class FullPathBench
{
    private const int Rounds = 5;

    // Sixteen arbitrary ids inside the default model's vocabulary; the same prompt on every path.
    private static readonly int[] s_prompt = [.. Enumerable.Range(1000, 16)];

    public static async Task RunAsync(
        string redis, string nats, int requests, Func<Uri, byte[], int, int, Task<List<double>>> measure)
    {
        await using var slice = await ServingSlice.StartAsync(redis, nats, speedUp: 1e12);
        await using var gateway = await GatewayHost.StartAsync(redis, nats, ServingSlice.Model, slice.RouterUrl, limits: true, serverTiming: true);
        await using var unlimited = await GatewayHost.StartAsync(redis, nats, ServingSlice.Model, slice.RouterUrl, limits: false, serverTiming: true);

        var ids = string.Join(',', s_prompt);
        var generate = Encoding.UTF8.GetBytes($$"""{"token_ids":[{{ids}}],"max_tokens":1}""");
        var completion = Encoding.UTF8.GetBytes($$"""{"model":"{{ServingSlice.Model}}","prompt":[{{ids}}],"max_tokens":1,"stream":true}""");
        var paths = new (string Name, Uri Url, byte[] Body)[]
        {
            ("worker /v1/internal/generate", new Uri(slice.WorkerUrl, "/v1/internal/generate"), generate),
            ("router /v1/completions", new Uri(slice.RouterUrl, "/v1/completions"), completion),
            ("gateway /v1/completions", new Uri(gateway.Address, "/v1/completions"), completion),
            ("gateway, limits off", new Uri(unlimited.Address, "/v1/completions"), completion),
        };

        foreach (var (_, url, body) in paths)
        {
            await measure(url, body, 50, 1);
        }

        StageSplit.Clear();
        var samples = paths.ToDictionary(p => p.Name, _ => new List<double>());
        for (var round = 0; round < Rounds; round++)
        {
            // Interleaved rounds, so drift in the shared machine's load falls on every path alike.
            foreach (var (name, url, body) in paths)
            {
                samples[name].AddRange(await measure(url, body, requests / Rounds, 1));
            }
        }

        Console.WriteLine();
        Console.WriteLine(
            $"Dynamo.Gateway.Bench --full-path — time to first streamed byte (µs), {samples[paths[0].Name].Count} sequential requests per path, "
            + $"mocker worker (speed-up 1e12), prompt {s_prompt.Length} token ids, max_tokens 1, {Environment.ProcessorCount} cores");
        Console.WriteLine("| path | p50 | p99 | added p50 / p99 vs worker | added p50 / p99 vs router (the gateway's own share) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var worker = Percentiles(samples[paths[0].Name]);
        var router = Percentiles(samples[paths[1].Name]);
        for (var i = 0; i < paths.Length; i++)
        {
            var p = Percentiles(samples[paths[i].Name]);
            var vsWorker = i == 0 ? "—" : $"{F(p.P50 - worker.P50)} / {F(p.P99 - worker.P99)}";
            var vsRouter = i < 2 ? "—" : $"{F(p.P50 - router.P50)} / {F(p.P99 - router.P99)}";
            Console.WriteLine($"| {paths[i].Name} | {F(p.P50)} | {F(p.P99)} | {vsWorker} | {vsRouter} |");
        }

        StageSplit.Print(paths.Select(p => (p.Name, p.Url)));
    }

    public static (double P50, double P99) Percentiles(List<double> samples)
    {
        var sorted = samples.Order().ToArray();
        return (sorted[(int)(sorted.Length * 0.50)], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))]);
    }

    private static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);
}
