using System.Globalization;
using System.Net.Http.Json;
using Dynamo.Planner.Profiling;
using Dynamo.Replay;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Generation;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Dynamo.Worker.Api;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Planner.Bench;

/// <summary>
/// <c>replay</c>: the Mooncake trace at rate phases of a base rate (default ×0.5 → ×2 → ×0.5) through a real router to
/// mocker workers, once with the real planner (virtual connector; this bench applies its decisions through
/// <see cref="WorkerPool"/>: cold process starts or warm spares, SIGTERM drains) and once per fixed allocation. Reports
/// SLA attainment, worker-seconds and the burst reaction (first rate rise → first scale-up decision → its worker serving).
/// </summary>
internal static class ScalingReplay
{
    private const string Model = "dynamo-default";

    public static async Task<int> RunAsync(string[] args)
    {
        var s = ReplaySettings.Parse(args);
        var schedule = ReplayInputs.Schedule(s);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{schedule.Count} requests over {s.TotalSeconds:0} s (base {s.BaseRate} req/s: {s.PhasesText}; {s.Arrivals} arrivals); mocker speed-up {s.SpeedUp}; targets TTFT {s.TtftMs} ms, ITL {s.ItlMs} ms (engine time; {s.TtftWallMs:0.#} / {s.ItlWallMs:0.##} ms wall)"));
        Console.WriteLine($"avg prompt {schedule.Average(r => r.Prompt.Tokens.Length):0} tokens, avg max_tokens {schedule.Average(r => r.Prompt.MaxTokens):0}; planner scale-ups {s.ScaleUp}");
        var profile = await ReplayInputs.PlannerProfileAsync(s);
        var rows = new List<Row>();
        double? plannerWorkerSeconds = null;
        foreach (var run in s.Runs)
        {
            var fixedWorkers = run switch
            {
                "planner" or "planner-warm" or "planner-cold" => (int?)null,
                "fixed-max" => s.MaxWorkers,
                "fixed-same" => Math.Max(1, (int)Math.Round((plannerWorkerSeconds ?? s.MaxWorkers * s.TotalSeconds) / s.TotalSeconds)),
                _ when run.StartsWith("fixed-", StringComparison.Ordinal) => int.Parse(run["fixed-".Length..], CultureInfo.InvariantCulture),
                _ => throw new ArgumentException($"Unknown run '{run}'; runs are planner, planner-warm, planner-cold, fixed-same, fixed-max, fixed-N."),
            };
            // planner-warm / planner-cold override --scale-up for that row, so one command compares both.
            var settings = run switch
            {
                "planner-warm" => s with { ScaleUp = "warm" },
                "planner-cold" => s with { ScaleUp = "cold" },
                _ => s,
            };
            var row = await RunOnceAsync(settings, schedule, run, fixedWorkers, profile);
            rows.Add(row);
            if (fixedWorkers is null)
            {
                plannerWorkerSeconds = row.WorkerSeconds;
            }

            Console.WriteLine($"{row.Name}: done ({row.Failed} failed)");
        }

        Console.WriteLine();
        Console.WriteLine("| allocation | avg workers | worker-seconds | requests | SLA attainment | TTFT p50 / p99 (ms wall) | ITL mean / p99 (ms wall) | failed | burst → first scale-up decision / serving |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.WorkerSeconds / s.TotalSeconds:0.00} | {r.WorkerSeconds:0} | {r.Requests} | {r.Attainment:P1} | {r.TtftP50:0} / {r.TtftP99:0} | {r.ItlMean:0.0} / {r.ItlP99:0.0} | {r.Failed} | {Seconds(r.BurstDecision)} / {Seconds(r.BurstServing)} |"));
        }

        return 0;
    }

    private static async Task<Row> RunOnceAsync(
        ReplaySettings s, List<(TraceRequest Trace, ReplayPrompt Prompt)> schedule, string name, int? fixedWorkers, EngineProfile profile)
    {
        var logs = Path.Combine(Path.GetTempPath(), $"dynamo-planner-bench-{Environment.ProcessId}", name);
        Directory.CreateDirectory(logs);
        await using var nats = await NatsServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        var common = new Dictionary<string, string>
        {
            ["ConnectionStrings__nats"] = nats.Url,
            ["ConnectionStrings__redis"] = redis.ConnectionString,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(common.ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value));
        builder.AddDynamoRuntime();
        using var runtime = builder.Build();
        var store = runtime.Services.GetRequiredService<IStateStore>();
        var registry = runtime.Services.GetRequiredService<IWorkerRegistry>();
        var blockSize = s.BlockSize;
        var modelPath = Path.Combine(RepoPaths.Root, "models", "generated", "dynamo-default-q8_0.gguf");
        var workerEnv = new Dictionary<string, string>(common)
        {
            ["Worker__Model"] = Model,
            ["Worker__ModelPath"] = modelPath,
            ["Worker__Engine"] = "mocker",
            ["Worker__BlockSize"] = blockSize.ToString(CultureInfo.InvariantCulture),
            ["Worker__KvCapacityBlocks"] = s.KvCapacityBlocks.ToString(CultureInfo.InvariantCulture),
            ["Worker__Mocker__SpeedUp"] = s.SpeedUp.ToString(CultureInfo.InvariantCulture),
        };
        await using var pool = new WorkerPool(Dll("Dynamo.Worker", s.Configuration), workerEnv, logs, registry);
        await using var children = new ChildServices(logs);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { Timeout = TimeSpan.FromMinutes(10) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        // One worker alone first: its process start → registration is the cold start a scale-up pays on this box.
        var coldStart = await pool.StartColdAndWaitAsync(deadline.Token);
        var initial = fixedWorkers ?? 1;
        var spares = fixedWorkers is null && s.ScaleUp == "warm" ? s.WarmSpares ?? 2 * s.MaxWorkers : 0;
        pool.StartDelay = TimeSpan.FromSeconds(s.StartDelaySeconds ?? coldStart.TotalSeconds);
        var warmNote = spares > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {spares} warm spares, start delay {pool.StartDelay.TotalSeconds:0.00} s") : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: cold start of one worker alone (process start → registered): {coldStart.TotalSeconds:0.00} s{warmNote}"));
        await Task.WhenAll([
            .. Enumerable.Range(1, initial - 1).Select(_ => pool.StartColdAndWaitAsync(deadline.Token)),
            pool.PrepareSparesAsync(spares, (url, ct) => WarmWorkerAsync(http, url, schedule, ct), deadline.Token)]);

        var routerPort = ChildServices.FreePort();
        children.Start(Dll("Dynamo.Router", s.Configuration), new Dictionary<string, string>(common)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{routerPort}",
            ["DYNAMO_INSTANCE_ID"] = "planner-bench-router",
            ["Router__Model"] = Model,
            ["Router__ModelPath"] = modelPath,
            ["Router__KvBlockSize"] = blockSize.ToString(CultureInfo.InvariantCulture),
        }, "router.log");
        var router = new Uri($"http://127.0.0.1:{routerPort}");
        await children.WaitHealthyAsync(http, new Uri(router, "/v1/models"), deadline.Token);

        VirtualController? controller = null;
        using var stopController = new CancellationTokenSource();
        Task controllerLoop = Task.CompletedTask;
        if (fixedWorkers is null)
        {
            await StartPlannerAsync(s, store, children, http, common, profile, logs, deadline.Token);
        }

        var client = new ReplayClient(http, router, Model, "kv_aware", concurrency: 1024);

        // Every allocation's starting workers serve a few requests first (JIT, connections), so no row pays a cold
        // first request inside the replay; what a scale-up pays depends on --scale-up (cold process or warm spare).
        var warmUp = schedule.Take(2 * initial).Select((r, i) => (r.Trace with { TimestampMs = i * 250L }, r.Prompt)).ToList();
        await client.ReplayAsync(warmUp, timeScale: 1, TimeSpan.FromSeconds(60), deadline.Token);
        pool.StartMetering();
        if (fixedWorkers is null)
        {
            controller = new VirtualController(store, pool, "aggregated");
            controllerLoop = controller.RunAsync(stopController.Token);
        }

        Console.WriteLine($"{name}: replay starts, load average {LoadAverage()}");
        var startedAt = pool.Now;
        var startedUtc = DateTimeOffset.UtcNow;
        var results = await client.ReplayAsync(schedule, timeScale: 1, TimeSpan.FromSeconds(s.TotalSeconds), CancellationToken.None);
        pool.StopMetering();
        await stopController.CancelAsync();
        await controllerLoop;
        await pool.ObserveServingAsync(CancellationToken.None);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: replay took {pool.Now - startedAt:0} s, load average {LoadAverage()}"));

        var (burstDecision, burstServing) = fixedWorkers is null
            ? await ReportPlannerAsync(s, store, pool, controller!, logs, startedAt, startedUtc)
            : (null, null);
        var ok = results.Where(r => r.Error is null).ToList();
        var ttfts = ok.Select(r => r.TtftMs).Order().ToList();
        var itls = ok.SelectMany(r => r.ItlMs).Order().ToList();
        return new Row(
            fixedWorkers is null ? $"planner, {s.Mode} mode (1–{s.MaxWorkers}), {s.ScaleUp} scale-ups" : $"fixed {fixedWorkers} ({name})",
            pool.WorkerSeconds,
            results.Count,
            results.Count(r => r.Error is null && r.TtftMs <= s.TtftWallMs && (r.ItlMs.Count == 0 || r.ItlMs.Average() <= s.ItlWallMs)) / (double)Math.Max(1, results.Count),
            Percentile(ttfts, 0.5),
            Percentile(ttfts, 0.99),
            itls.DefaultIfEmpty(0).Average(),
            Percentile(itls, 0.99),
            results.Count - ok.Count,
            burstDecision,
            burstServing);
    }

    /// <summary>
    /// Writes the decision timeline (seconds after the replay's start), prints the scale-ups, and measures the burst
    /// reaction: from the first rise in the rate multiplier to the first scale-up decision and to its worker serving.
    /// </summary>
    private static async Task<(double? Decision, double? Serving)> ReportPlannerAsync(
        ReplaySettings s, IStateStore store, WorkerPool pool, VirtualController controller, string logs, double startedAt, DateTimeOffset startedUtc)
    {
        var decisions = await store.ReadLogAsync(PlannerDecision.Log, PlannerDecision.LogLength, DynamoJsonContext.Default.PlannerDecision);
        var timeline = decisions.Reverse().ToList();
        await File.WriteAllLinesAsync(Path.Combine(logs, "decisions.txt"), timeline.Select(d => string.Create(CultureInfo.InvariantCulture,
            $"+{(d.Timestamp - startedUtc).TotalSeconds,6:0.0}s {d.Mode,-10} {string.Join(", ", d.Pools.Select(p => $"{p.Pool} {p.CurrentReplicas}→{p.TargetReplicas} (correction {p.CorrectionFactor:0.00})"))}: {d.Reason}")));
        var activations = pool.Activations;
        Console.WriteLine($"planner: {decisions.Count} decisions, timeline in {Path.Combine(logs, "decisions.txt")} (seconds after the replay's start); scale changes applied at: "
            + string.Join(", ", controller.Changes.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.AtSeconds - startedAt:0.0} {c.From}→{c.To}"))));
        Console.WriteLine("planner: scale-ups (asked → serving, s after the replay's start): " + string.Join(", ", activations.Select(a => string.Create(CultureInfo.InvariantCulture,
            $"{a.AskedAt - startedAt:0.0} → {(a.ServingAt is { } at ? (at - startedAt).ToString("0.0", CultureInfo.InvariantCulture) : "never")} ({(a.Warm ? "warm" : "cold")})")))
            + $"; {pool.Spares} warm spares left");
        if (s.BurstStartSeconds is not { } burst)
        {
            return (null, null);
        }

        var firstUp = timeline.FirstOrDefault(d => (d.Timestamp - startedUtc).TotalSeconds >= burst && d.Pools.Any(p => p.TargetReplicas > p.CurrentReplicas));
        var firstServing = activations.FirstOrDefault(a => a.AskedAt - startedAt >= burst - 0.5 && a.ServingAt is not null);
        return (firstUp is null ? null : (firstUp.Timestamp - startedUtc).TotalSeconds - burst, firstServing?.ServingAt - startedAt - burst);
    }

    private static async Task StartPlannerAsync(
        ReplaySettings s, IStateStore store, ChildServices children, HttpClient http, Dictionary<string, string> common, EngineProfile profile, string logs,
        CancellationToken cancellationToken)
    {
        await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId,
            new SlaConfig(s.TtftWallMs, s.ItlWallMs, new Dictionary<string, PoolBounds> { ["aggregated"] = new(1, s.MaxWorkers) }, UpdatedBy: "planner-bench"),
            DynamoJsonContext.Default.SlaConfig, cancellationToken);
        var profilePath = Path.Combine(logs, "profile.json");
        profile.Save(profilePath);
        var plannerPort = ChildServices.FreePort();
        children.Start(Dll("Dynamo.Planner", s.Configuration), new Dictionary<string, string>(common)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{plannerPort}",
            ["Logging__LogLevel__Default"] = "Information",
            ["Planner__ScaleDownStabilizationSeconds"] = (3 * s.IntervalSeconds).ToString(CultureInfo.InvariantCulture),
            ["Planner__Connector"] = "virtual",
            ["Planner__Mode"] = s.Mode,
            ["Planner__ProfilePath"] = profilePath,
            ["Planner__IntervalSeconds"] = s.IntervalSeconds.ToString(CultureInfo.InvariantCulture),
            ["Planner__LoadCheckSeconds"] = s.LoadCheckSeconds.ToString(CultureInfo.InvariantCulture),
            ["Planner__BurstCooldownSeconds"] = (4 * s.LoadCheckSeconds).ToString(CultureInfo.InvariantCulture),
            ["Planner__StaleAfterSeconds"] = "5",
            ["Planner__VirtualAckTimeoutSeconds"] = "10",
            ["Planner__QueuedPerReplica"] = s.QueuedPerReplica.ToString(CultureInfo.InvariantCulture),
        }, "planner.log");
        await children.WaitHealthyAsync(http, new Uri($"http://127.0.0.1:{plannerPort}/health"), cancellationToken);
    }

    /// <summary>Two short generations straight at a spare's generate API (it is not behind the router yet): JIT and the engine's first steps.</summary>
    private static async Task WarmWorkerAsync(HttpClient http, Uri worker, List<(TraceRequest Trace, ReplayPrompt Prompt)> schedule, CancellationToken cancellationToken)
    {
        foreach (var (_, prompt) in schedule.Take(2))
        {
            var request = new GenerateRequest($"warm-{Guid.NewGuid():N}", prompt.Tokens, 8, null, null, null, IgnoreEos: true);
            using var response = await http.PostAsJsonAsync(new Uri(worker, GenerateApi.Path), request, GenerateJsonContext.Default.GenerateRequest, cancellationToken);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsStringAsync(cancellationToken);
        }
    }

    /// <summary>The 1/5/15-minute load averages (the machine is shared; the figure states them).</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static string Dll(string project, string configuration)
    {
        var path = Path.Combine(RepoPaths.Root, project, "bin", configuration, "net10.0", $"{project}.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: dotnet build {project}/{project}.csproj -c {configuration}");
    }

    private static string Seconds(double? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.0} s") : "–";

    private sealed record Row(
        string Name, double WorkerSeconds, int Requests, double Attainment, double TtftP50, double TtftP99, double ItlMean, double ItlP99, int Failed,
        double? BurstDecision, double? BurstServing);
}
