using System.Diagnostics;
using System.Globalization;
using Dynamo.Router.Routing;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Runtime.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// Bounded loops only: each configuration ingests a fixed trace and times a fixed number of decisions.
const int Families = 28_672;
const int ChainLength = 64;
const int Decisions = 50_000;
const int SystemBlocks = 8;

var startLoad = File.ReadAllText("/proc/loadavg").Split(' ')[0];
var rows = new List<(string Name, string Value, string Unit, string Notes)>();
foreach (var workerCount in new[] { 64, 256 })
{
    var random = new Random(workerCount);
    var workers = Enumerable.Range(0, workerCount).Select(i => $"worker-{i}").ToArray();
    // Every family starts with the same 8-block system prompt, which every worker holds: the lookup's worst case
    // (all workers alive at the first blocks) and what a shared chat template produces in practice.
    var system = Chain(-1)[..SystemBlocks];
    var chains = Enumerable.Range(0, Families).Select(f => system.Concat(Chain(f)[SystemBlocks..]).ToArray()).ToArray();

    // Each prompt family is cached on 1–4 workers, each holding a random prefix of it.
    var batches = new List<KvEventBatch>();
    var eventIds = new long[workerCount];
    long storedBlocks = 0;
    for (var w = 0; w < workerCount; w++)
    {
        batches.Add(new KvEventBatch(workers[w], ++eventIds[w], DateTimeOffset.UnixEpoch, [new KvStored(null, [.. system.Select(h => new KvStoredBlock(h, h))])]));
        storedBlocks += SystemBlocks;
    }

    foreach (var chain in chains)
    {
        for (var copies = random.Next(1, 5); copies > 0; copies--)
        {
            var w = random.Next(workerCount);
            var length = random.Next(SystemBlocks + 1, ChainLength + 1);
            var blocks = chain[..length].Select(h => new KvStoredBlock(h, h)).ToArray();
            batches.Add(new KvEventBatch(workers[w], ++eventIds[w], DateTimeOffset.UnixEpoch, [new KvStored(null, blocks)]));
            storedBlocks += length;
        }
    }

    var index = new KvIndex();
    var cpu = Cpu();
    var start = Stopwatch.GetTimestamp();
    foreach (var batch in batches)
    {
        index.Apply(batch);
    }

    var ingest = Stopwatch.GetElapsedTime(start);
    var ingestCpu = Cpu() - cpu;
    rows.Add(($"ingest, {workerCount} workers", F(storedBlocks / ingest.TotalSeconds / 1e6), "M blocks/s", $"{batches.Count:N0} Stored events ({F(batches.Count / ingest.TotalSeconds / 1e3, "0")} k events/s), {index.DistinctBlocks:N0} distinct blocks, {storedBlocks:N0} held"));
    rows.Add(($"ingest CPU, {workerCount} workers", F(storedBlocks / ingestCpu.TotalSeconds / 1e6), "M blocks/s", "per CPU-second (the wall rate suffers from a shared machine)"));

    // Requests reuse a family's prefix and add a few new blocks, as a chat turn would.
    var requests = Enumerable.Range(0, Decisions).Select(_ =>
    {
        var chain = chains[random.Next(Families)];
        var prefix = random.Next(16, ChainLength + 1);
        return chain[..prefix].Concat(Enumerable.Range(0, 4).Select(_ => (ulong)random.NextInt64())).ToArray();
    }).ToArray();

    // The routing path's lookup: one reused buffer per thread, so no allocation per lookup. Warm up first, so the
    // samples time tier-1 code (not tier-0 or OSR code, nor the tiered-PGO rejit of the walk) over a touched table.
    var buffer = new KvMatchBuffer();
    var lookups = new double[Decisions];
    var warmup = WarmUp(() => TimeLookups(index, requests, buffer, lookups));
    var counters = Counters.Start();
    cpu = Cpu();
    var allocated = GC.GetAllocatedBytesForCurrentThread();
    TimeLookups(index, requests, buffer, lookups);
    var lookupBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)Decisions;
    var lookupCpu = Cpu() - cpu;
    var lookupCounters = counters.Stop();
    rows.Add(($"lookup CPU per op, {workerCount} workers", F(lookupCpu.TotalMicroseconds / Decisions), "µs", "process CPU time / lookups"));
    rows.Add(($"lookup p50 / p99, {workerCount} workers", $"{F(Percentile(lookups, 0.5))} / {F(Percentile(lookups, 0.99))}", "µs", $"FindMatches over {requests.Average(r => r.Length):0} hashes into a reused buffer; {F(lookupBytes, "0")} B allocated per lookup"));
    rows.Add(($"lookup p99.9 / max, {workerCount} workers", $"{F(Percentile(lookups, 0.999))} / {F(lookups.Max())}", "µs", $"{Over(lookups, 10)} samples > 10 µs, {Over(lookups, 50)} > 50 µs (of {Decisions:N0}); {lookupCounters}; warm-up {warmup}"));

    var time = TimeProvider.System;
    var router = new RequestRouter(
        index,
        new ApproximateKvIndex(time, TimeSpan.FromSeconds(120), 65_536),
        new ActiveSequenceTracker(time, TimeSpan.FromSeconds(300)),
        new WorkerLoadTracker(time, TimeSpan.FromSeconds(30)),
        new SeededRandomSource(1),
        time,
        Options.Create(new KvRoutingOptions { BusyThreshold = 100 }),
        NullLogger<RequestRouter>.Instance);
    var registrations = workers.Select(w => new WorkerRegistration(w, "m", WorkerRole.Aggregated, "mocker", new WorkerEndpoints("http://127.0.0.1:1"), 64, 16_384, DateTimeOffset.UnixEpoch)).ToArray();
    var decisions = new double[Decisions];
    var decisionWarmup = WarmUp(() => TimeDecisions(router, requests, registrations, decisions));
    counters = Counters.Start();
    cpu = Cpu();
    allocated = GC.GetAllocatedBytesForCurrentThread();
    var wall = Stopwatch.GetTimestamp();
    var hits = TimeDecisions(router, requests, registrations, decisions);
    var elapsed = Stopwatch.GetElapsedTime(wall);
    var decisionBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)Decisions;
    var decisionCpu = Cpu() - cpu;
    var decisionCounters = counters.Stop();
    rows.Add(($"kv_aware decision CPU per op, {workerCount} workers", F(decisionCpu.TotalMicroseconds / Decisions), "µs", "process CPU time / decisions"));
    rows.Add(($"kv_aware decision p50 / p99, {workerCount} workers", $"{F(Percentile(decisions, 0.5))} / {F(Percentile(decisions, 0.99))}", "µs", $"RouteAsync: lookup + shortlist + tracking; {F(decisionBytes, "0")} B allocated per decision"));
    rows.Add(($"kv_aware decision p99.9 / max, {workerCount} workers", $"{F(Percentile(decisions, 0.999))} / {F(decisions.Max())}", "µs", $"{Over(decisions, 10)} samples > 10 µs, {Over(decisions, 50)} > 50 µs; {decisionCounters}; warm-up {decisionWarmup}"));
    rows.Add(($"kv_aware decisions/s, {workerCount} workers", F(Decisions / elapsed.TotalSeconds / 1e3, "0.0"), "k/s", $"one thread; device-hit rate {F(100.0 * hits / requests.Sum(r => r.Length), "0.0")} %"));
}

Console.WriteLine();
Console.WriteLine($"Dynamo.Router.IndexBench — {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, load average {startLoad} at start, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at end");
var widths = new[] { rows.Max(r => r.Name.Length), rows.Max(r => r.Value.Length), rows.Max(r => r.Unit.Length), rows.Max(r => r.Notes.Length) };
Console.WriteLine($"| {"Benchmark".PadRight(widths[0])} | {"Value".PadLeft(widths[1])} | {"Unit".PadRight(widths[2])} | {"Notes".PadRight(widths[3])} |");
foreach (var (name, value, unit, notes) in rows)
{
    Console.WriteLine($"| {name.PadRight(widths[0])} | {value.PadLeft(widths[1])} | {unit.PadRight(widths[2])} | {notes.PadRight(widths[3])} |");
}

static ulong[] Chain(int family)
{
    var chain = new ulong[ChainLength];
    var previous = (ulong)family * 0x9E3779B97F4A7C15UL;
    for (var i = 0; i < ChainLength; i++)
    {
        previous = (previous ^ ((ulong)i + 1)) * 0xBF58476D1CE4E5B9UL;
        chain[i] = previous;
    }

    return chain;
}

// The measured loops are methods of their own, run by the warm-up too, so the measurement runs their tier-1 code
// rather than the on-stack-replacement code of a loop in Main.
static void TimeLookups(KvIndex index, ulong[][] requests, KvMatchBuffer buffer, double[] micros)
{
    for (var i = 0; i < requests.Length; i++)
    {
        var t = Stopwatch.GetTimestamp();
        index.FindMatches(requests[i], buffer);
        micros[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
    }
}

// RouteAsync completes synchronously here (no worker is busy), so the result is read without an await.
static long TimeDecisions(RequestRouter router, ulong[][] requests, WorkerRegistration[] registrations, double[] micros)
{
    var hits = 0L;
    for (var i = 0; i < requests.Length; i++)
    {
        var t = Stopwatch.GetTimestamp();
        var pending = router.RouteAsync(new RoutingRequest("r", requests[i], requests[i].Length * 64), registrations);
        var result = pending.IsCompletedSuccessfully ? pending.Result : throw new InvalidOperationException("A routing decision waited: the bench expects no busy worker.");
        micros[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
        hits += result.Decision!.OverlapBlocks;
        result.Sequence!.Dispose();
    }

    return hits;
}

// Repeats a full pass until a pass JIT-compiles nothing (tier-0 → tier-1 promotion happens in the background after
// a call-count threshold and a 100 ms quiet period, hence the pause between passes); at most 8 passes.
static string WarmUp(Action pass)
{
    var passes = 0;
    var before = System.Runtime.JitInfo.GetCompiledMethodCount();
    var start = Stopwatch.GetTimestamp();
    while (passes < 8)
    {
        pass();
        passes++;
        Thread.Sleep(250);
        var after = System.Runtime.JitInfo.GetCompiledMethodCount();
        if (after == before && passes >= 2)
        {
            break;
        }

        before = after;
    }

    return $"{passes} passes, {F(Stopwatch.GetElapsedTime(start).TotalSeconds, "0.0")} s";
}

static int Over(double[] values, double limit) => values.Count(v => v > limit);

static TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime;

static double Percentile(double[] values, double p)
{
    var sorted = (double[])values.Clone();
    Array.Sort(sorted);
    return sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];
}

static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);

// What ran besides the measured code: collections per generation and methods JIT-compiled while it ran.
internal readonly record struct Counters(int Gen0, int Gen1, int Gen2, long Jitted)
{
    public static Counters Start() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), System.Runtime.JitInfo.GetCompiledMethodCount());

    public string Stop() =>
        $"GC gen0/1/2 {GC.CollectionCount(0) - Gen0}/{GC.CollectionCount(1) - Gen1}/{GC.CollectionCount(2) - Gen2}, {System.Runtime.JitInfo.GetCompiledMethodCount() - Jitted} methods JIT-compiled";
}
