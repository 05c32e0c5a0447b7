using System.Diagnostics;
using System.Globalization;
using Dynamo.Replay;
using Dynamo.TestSupport;

ReplayOptions options;
List<TraceRequest> trace;
string workerDll, routerDll;
try
{
    options = ReplayOptions.Parse(args);
    trace = TraceReader.Read(options.Trace, options.Requests, options.Skip);
    workerDll = options.WorkerDll ?? BuiltDll("Dynamo.Worker", options.Configuration);
    routerDll = options.RouterDll ?? BuiltDll("Dynamo.Router", options.Configuration);
    if (new[] { workerDll, routerDll }.FirstOrDefault(static d => !File.Exists(d)) is { } missing)
    {
        throw new FileNotFoundException($"{missing} does not exist.", missing);
    }
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var builder = new PromptBuilder(options.TokenScale, options.OutputScale, options.MaxContext, options.VocabSize);
var requests = trace.Select(t => (t, builder.Build(t))).ToList();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{requests.Count} requests from {options.Trace} (lines after the first {options.Skip}); {options.Workers} mocker workers, block {options.BlockSize} tokens, {options.KvCapacityBlocks} KV blocks each, speed-up {options.SpeedUp}, time scale {string.Join(",", options.TimeScales)}; avg prompt {requests.Average(static r => r.Item2.Tokens.Length):F0} tokens (max {requests.Max(static r => r.Item2.Tokens.Length)}), avg max_tokens {requests.Average(static r => r.Item2.MaxTokens):F0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Oracle hit rate at trace granularity: this window from empty caches {OracleHitRate.Compute(trace):P1}; whole trace {OracleHitRate.Compute(TraceReader.Read(options.Trace, int.MaxValue)):P1}"));

// The router reads tokenizer and context length from its GGUF; past the model's own context it gets a weightless
// copy with a longer one (the mocker workers read no weights), so real prompt lengths reach the workers.
var modelPath = options.ModelPath;
if (options.MaxContext > RouterModelCard.ContextLength(modelPath))
{
    modelPath = Path.Combine(Path.GetTempPath(), $"dynamo-replay-{Environment.ProcessId}", $"router-card-{options.MaxContext}.gguf");
    RouterModelCard.Write(options.ModelPath, (uint)options.MaxContext, modelPath);
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var rows = new List<PolicyRow>();
var runs = new List<RunKey>();
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency }) { Timeout = TimeSpan.FromMinutes(10) };
var sla = new Sla(options.SlaTtftMs, options.SlaItlMs);
var traceSeconds = Math.Max(1e-3, (requests[^1].t.TimestampMs - requests[0].t.TimestampMs) / 1000.0);
foreach (var (timeScale, prefillWorkers, policy) in
    from s in options.TimeScales from p in options.PrefillWorkers from policy in options.Policies select (s, p, policy))
{
    var configuration = prefillWorkers == 0 ? policy : $"{policy} {prefillWorkers}P+{options.Workers - prefillWorkers}D";
    var label = options.TimeScales.Count == 1 ? configuration : string.Create(CultureInfo.InvariantCulture, $"{configuration} ×{timeScale:0.###}");
    var logs = Path.Combine(Path.GetTempPath(), $"dynamo-replay-{Environment.ProcessId}", label.Replace(' ', '-').Replace('+', '-').Replace('×', 'x'));
    Directory.CreateDirectory(logs);
    await using var cluster = await Cluster.StartAsync(
        new ClusterSettings(options.Workers, options.SpeedUp, options.BlockSize, options.KvCapacityBlocks, options.Model,
            modelPath, workerDll, routerDll, policy, logs, prefillWorkers, options.MaxLocalPrefillTokens),
        cancel.Token);
    var client = new ReplayClient(http, cluster.RouterUrl, options.Model, policy, options.Concurrency);
    // Pinned to aggregated or decode workers (a prefill worker serves no client request); remote prefills warm the rest.
    await client.WarmUpAsync([.. cluster.WorkerIds.Skip(prefillWorkers)], rounds: 5, builder.BlockTokens, cancel.Token);
    var started = Stopwatch.GetTimestamp();
    var results = await client.ReplayAsync(
        requests, timeScale, TimeSpan.FromSeconds(options.MaxSeconds), cancel.Token, TimeSpan.FromSeconds(options.DrainSeconds));
    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    // A --max-seconds cut replays a prefix of the window: the oracle of what was sent is the fair bound.
    var sentOracle = OracleHitRate.Compute(requests.Take(results.Count).Select(static r => r.Item2), builder.BlockTokens);
    var row = PolicyRow.From(label, results, sentOracle, seconds, sla, requests.Count / traceSeconds * timeScale);
    rows.Add(row);
    runs.Add(new RunKey(timeScale, prefillWorkers, policy, row));
    foreach (var error in results.Where(static r => r.Error is not null).Select(static r => r.Error).Distinct().Take(3))
    {
        Console.Error.WriteLine($"{label}: request failed: {error}");
    }

    if (prefillWorkers > 0)
    {
        // Why requests were (not) disaggregated: the router's prefill_reason, without the numbers that vary per request.
        var reasons = results.Select(static r => r.RoutingHeader?.Split("; ").FirstOrDefault(static f => f.StartsWith("prefill_reason=", StringComparison.Ordinal)))
            .Select(static f => f is null ? "none" : System.Text.RegularExpressions.Regex.Replace(f["prefill_reason=".Length..], "[0-9]+", "N"))
            .GroupBy(static r => r).OrderByDescending(static g => g.Count());
        Console.WriteLine($"{label}: prefill reasons: {string.Join("; ", reasons.Select(static g => $"{g.Count()}× {g.Key}"))}");
    }

    Console.WriteLine($"{label}: {Report.Balance(results)}");
    Report.WriteCsv(Path.Combine(logs, "requests.csv"), results, requests.Select(r => (double)(r.t.TimestampMs - requests[0].t.TimestampMs)).ToList(), timeScale);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label}: {row.Completed} ok, {row.Failed} failed in {seconds:F1} s, KV hit {row.HitRate:P1}, SLA met {row.SlaMet:P0} (goodput {row.GoodputPerSecond:F2} req/s), remote prefill {row.RemotePrefills}/{row.Completed}, client-side wait max {results.Max(static r => r.WaitMs):F0} ms (logs: {logs})"));
}

Console.WriteLine();
Console.WriteLine(Report.Table(rows, sla));
if (Report.Ratios(runs) is { } ratios)
{
    Console.WriteLine(ratios);
}

return 0;

static string BuiltDll(string project, string configuration)
{
    var path = Path.Combine(RepoPaths.Root, project, "bin", configuration, "net10.0", $"{project}.dll");
    return File.Exists(path)
        ? path
        : throw new FileNotFoundException($"{path} is missing: dotnet build {project}/{project}.csproj -c {configuration}");
}
