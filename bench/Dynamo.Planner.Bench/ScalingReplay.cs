using System.Diagnostics;
using System.Globalization;
using Dynamo.Planner.Profiling;
using Dynamo.Replay;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Planner.Bench;

/// <summary>
/// <c>replay</c>: the Mooncake trace at ×0.5 → ×2 → ×0.5 of a base rate through a real router to mocker workers, once
/// with the real planner (virtual connector; this bench applies its decisions by starting workers and stopping them with
/// SIGTERM) and once per fixed allocation. Reports SLA attainment, worker-seconds and the burst reaction time.
/// </summary>
internal static class ScalingReplay
{
    private const string Model = "dynamo-default";

    public static async Task<int> RunAsync(string[] args)
    {
        var s = ReplaySettings.Parse(args);
        var schedule = Schedule(s);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{schedule.Count} requests over {3 * s.PhaseSeconds:0} s (base {s.BaseRate} req/s: ×0.5, ×2, ×0.5); mocker speed-up {s.SpeedUp}; targets TTFT {s.TtftMs} ms, ITL {s.ItlMs} ms (engine time; {s.TtftWallMs:0.#} / {s.ItlWallMs:0.##} ms wall)"));
        Console.WriteLine($"avg prompt {schedule.Average(r => r.Prompt.Tokens.Length):0} tokens, avg max_tokens {schedule.Average(r => r.Prompt.MaxTokens):0}");
        var profile = await PlannerProfileAsync(s);
        var rows = new List<Row>();
        double? plannerWorkerSeconds = null;
        foreach (var run in s.Runs)
        {
            var fixedWorkers = run switch
            {
                "planner" => (int?)null,
                "fixed-max" => s.MaxWorkers,
                "fixed-same" => Math.Max(1, (int)Math.Round((plannerWorkerSeconds ?? s.MaxWorkers * 3 * s.PhaseSeconds) / (3 * s.PhaseSeconds))),
                _ when run.StartsWith("fixed-", StringComparison.Ordinal) => int.Parse(run["fixed-".Length..], CultureInfo.InvariantCulture),
                _ => throw new ArgumentException($"Unknown run '{run}'; runs are planner, fixed-same, fixed-max, fixed-N."),
            };
            var row = await RunOnceAsync(s, schedule, run, fixedWorkers, profile);
            rows.Add(row);
            if (fixedWorkers is null)
            {
                plannerWorkerSeconds = row.WorkerSeconds;
            }

            Console.WriteLine($"{row.Name}: done ({row.Failed} failed)");
        }

        Console.WriteLine();
        Console.WriteLine("| allocation | avg workers | worker-seconds | requests | SLA attainment | TTFT p50 / p99 (ms wall) | ITL mean / p99 (ms wall) | failed | burst → first scale-up |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.WorkerSeconds / (3 * s.PhaseSeconds):0.00} | {r.WorkerSeconds:0} | {r.Requests} | {r.Attainment:P1} | {r.TtftP50:0} / {r.TtftP99:0} | {r.ItlMean:0.0} / {r.ItlP99:0.0} | {r.Failed} | {(r.BurstReaction is { } b ? $"{b:0.0} s" : "–")} |"));
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
        await using var pool = new WorkerPool(Dll("Dynamo.Worker", s.Configuration), workerEnv, logs);
        await using var children = new ChildServices(logs);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { Timeout = TimeSpan.FromMinutes(10) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var initial = fixedWorkers ?? 1;
        pool.ScaleTo(initial);
        while ((await registry.ListAsync(deadline.Token)).Workers.Count < initial)
        {
            await Task.Delay(250, deadline.Token);
        }

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
            await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId,
                new SlaConfig(s.TtftWallMs, s.ItlWallMs, new Dictionary<string, PoolBounds> { ["aggregated"] = new(1, s.MaxWorkers) }, UpdatedBy: "planner-bench"),
                DynamoJsonContext.Default.SlaConfig);
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
            await children.WaitHealthyAsync(http, new Uri($"http://127.0.0.1:{plannerPort}/health"), deadline.Token);
        }

        var client = new ReplayClient(http, router, Model, "kv_aware", concurrency: 1024);

        // Every allocation's starting workers serve a few requests first (JIT, connections), so no row pays a cold
        // first request inside the replay; replicas the planner adds later start cold, and that time counts.
        var warmUp = schedule.Take(2 * initial).Select((r, i) => (r.Trace with { TimestampMs = i * 250L }, r.Prompt)).ToList();
        await client.ReplayAsync(warmUp, timeScale: 1, TimeSpan.FromSeconds(60), deadline.Token);
        pool.StartMetering();
        if (fixedWorkers is null)
        {
            controller = new VirtualController(store, pool, "aggregated");
            controllerLoop = controller.RunAsync(stopController.Token);
        }

        Console.WriteLine($"{name}: replay starts, load average {LoadAverage()}");
        var started = Stopwatch.GetTimestamp();
        var results = await client.ReplayAsync(schedule, timeScale: 1, TimeSpan.FromSeconds(3 * s.PhaseSeconds), CancellationToken.None);
        pool.StopMetering();
        await stopController.CancelAsync();
        await controllerLoop;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: replay took {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s, load average {LoadAverage()}"));

        if (fixedWorkers is null)
        {
            var decisions = await store.ReadLogAsync(PlannerDecision.Log, PlannerDecision.LogLength, DynamoJsonContext.Default.PlannerDecision);
            var origin = decisions.Count > 0 ? decisions[^1].Timestamp : DateTimeOffset.UtcNow;
            await File.WriteAllLinesAsync(Path.Combine(logs, "decisions.txt"), decisions.Reverse().Select(d => string.Create(CultureInfo.InvariantCulture,
                $"+{(d.Timestamp - origin).TotalSeconds,6:0.0}s {d.Mode,-10} {string.Join(", ", d.Pools.Select(p => $"{p.Pool} {p.CurrentReplicas}→{p.TargetReplicas} (correction {p.CorrectionFactor:0.00})"))}: {d.Reason}")));
            Console.WriteLine($"planner: {decisions.Count} decisions, timeline in {Path.Combine(logs, "decisions.txt")}; scale changes applied at (s after replay start): "
                + string.Join(", ", controller!.Changes.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.AtSeconds:0.0} {c.From}→{c.To}"))));
        }

        var ok = results.Where(r => r.Error is null).ToList();
        var ttfts = ok.Select(r => r.TtftMs).Order().ToList();
        var itls = ok.SelectMany(r => r.ItlMs).Order().ToList();
        // Only a scale-up that is the planner's first move after the ×2 phase starts is a reaction to it.
        double? burst = controller?.Changes.FirstOrDefault(c => c.AtSeconds >= s.PhaseSeconds) is { } first && first.To > first.From
            ? first.AtSeconds - s.PhaseSeconds
            : null;
        return new Row(
            fixedWorkers is null ? $"planner, {s.Mode} mode (1–{s.MaxWorkers})" : $"fixed {fixedWorkers} ({name})",
            pool.WorkerSeconds,
            results.Count,
            results.Count(r => r.Error is null && r.TtftMs <= s.TtftWallMs && (r.ItlMs.Count == 0 || r.ItlMs.Average() <= s.ItlWallMs)) / (double)Math.Max(1, results.Count),
            Percentile(ttfts, 0.5),
            Percentile(ttfts, 0.99),
            itls.DefaultIfEmpty(0).Average(),
            Percentile(itls, 0.99),
            results.Count - ok.Count,
            burst);
    }

    /// <summary>Arrivals at base × (0.5, 2, 0.5) over three phases, keeping the trace's own relative gaps and order.</summary>
    private static List<(TraceRequest Trace, ReplayPrompt Prompt)> Schedule(ReplaySettings s)
    {
        var trace = TraceReader.Read(s.Trace, 100_000);
        var meanGap = (trace[^1].TimestampMs - trace[0].TimestampMs) / (double)(trace.Count - 1);
        var builder = new PromptBuilder(s.TokenScale, s.OutputScale, 4096, 32_000);
        var schedule = new List<(TraceRequest Trace, ReplayPrompt Prompt)>();
        var t = 0.0;
        for (var i = 0; i < trace.Count && t < 3 * s.PhaseSeconds; i++)
        {
            schedule.Add((trace[i] with { TimestampMs = (long)(t * 1000) }, builder.Build(trace[i])));
            var gap = i + 1 < trace.Count ? (trace[i + 1].TimestampMs - trace[i].TimestampMs) / meanGap : 1;
            var multiplier = t < s.PhaseSeconds || t >= 2 * s.PhaseSeconds ? 0.5 : 2;
            t += gap / (s.BaseRate * multiplier);
        }

        return schedule;
    }

    /// <summary>
    /// The profile the planner gets: <c>--profile PATH</c> as it is, or else the mocker measured in process with the
    /// workers' own KV cache (blocks × block size; the mocker's step time depends on the share of it in use) at the
    /// bench's speed-up. Times are divided by the speed-up, as the sped-up workers run on the wall clock. Being measured
    /// in process, it holds no HTTP, streaming or router overhead: the planner's correction factors learn those.
    /// </summary>
    private static async Task<EngineProfile> PlannerProfileAsync(ReplaySettings s)
    {
        EngineProfile profile;
        if (s.ProfilePath is { } path)
        {
            profile = EngineProfile.Load(path);
        }
        else
        {
            using var stack = EngineStack.Mocker(s.SpeedUp, (int)s.KvCapacityBlocks, s.BlockSize);
            profile = await ProfileCommand.MeasureAsync(stack, "mocker", _ => { });
        }

        Console.WriteLine($"planner profile: {profile.Description}, {profile.KvCapacityTokens} KV tokens; times ÷ {s.SpeedUp}");
        return profile with
        {
            Description = $"{profile.Description}; times ÷ {s.SpeedUp} (bench speed-up)",
            Prefill = [.. profile.Prefill.Select(p => p with { Milliseconds = p.Milliseconds / s.SpeedUp })],
            Decode = [.. profile.Decode.Select(p => p with { StepMilliseconds = p.StepMilliseconds / s.SpeedUp })],
        };
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

    private sealed record Row(
        string Name, double WorkerSeconds, int Requests, double Attainment, double TtftP50, double TtftP99, double ItlMean, double ItlP99, int Failed, double? BurstReaction);
}
