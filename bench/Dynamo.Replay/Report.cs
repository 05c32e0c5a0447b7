using System.Globalization;
using System.Text;

namespace Dynamo.Replay;

/// <summary>One policy's aggregated figures.</summary>
public sealed record PolicyRow(
    string Policy, int Completed, int Failed, double TtftAvg, double TtftP50, double TtftP99, double ItlAvg, double ItlP50,
    double ItlP99, double E2eP50, double E2eP99, double HitRate, double OracleFraction, double OutputTokensPerSecond,
    double RequestsPerSecond, int WorkersUsed, string AppliedPolicy, int RemotePrefills = 0, double OfferedPerSecond = 0,
    double GoodputPerSecond = 0, double SlaMet = 0, double Oracle = 0)
{
    /// <param name="offered">Requests sent per second of trace time at this time scale (the sweep's x axis).</param>
    public static PolicyRow From(
        string policy, IReadOnlyList<RequestResult> results, double oracle, double seconds, Sla sla, double offered)
    {
        var ok = results.Where(static r => r.Error is null).ToList();
        var ttft = ok.Select(static r => r.TtftMs).Order().ToArray();
        var itl = ok.SelectMany(static r => r.ItlMs).Order().ToArray();
        var e2e = ok.Select(static r => r.E2eMs).Order().ToArray();
        long prompt = ok.Sum(static r => (long)r.PromptTokens), cached = ok.Sum(static r => (long)r.CachedTokens);
        var hit = prompt == 0 ? 0 : (double)cached / prompt;
        var output = ok.Sum(static r => (long)r.OutputTokens);
        var workers = ok.Select(static r => Field(r.RoutingHeader, "worker=")).Where(static w => w is not null).Distinct().Count();
        var applied = ok.Select(static r => Field(r.RoutingHeader, "policy=")).Where(static p => p is not null).Distinct().Order().ToArray();
        return new PolicyRow(
            policy, ok.Count, results.Count - ok.Count, Avg(ttft), Pct(ttft, 50), Pct(ttft, 99), Avg(itl), Pct(itl, 50), Pct(itl, 99),
            Pct(e2e, 50), Pct(e2e, 99), hit, oracle == 0 ? 0 : hit / oracle, output / seconds, ok.Count / seconds, workers,
            applied.Length == 0 ? "n/a" : string.Join("+", applied.Select(static p => p!["policy=".Length..])),
            ok.Count(static r => Field(r.RoutingHeader, "prefill=") == "prefill=remote"),
            offered,
            results.Count(r => r.MeetsSla(sla.TtftMs, sla.ItlMs)) / seconds,
            results.Count == 0 ? 0 : (double)results.Count(r => r.MeetsSla(sla.TtftMs, sla.ItlMs)) / results.Count,
            oracle);
    }

    // The router's decision header: "worker=<id>; policy=<name>; overlap=…" (absent on routers without it).
    internal static string? Field(string? header, string prefix) =>
        header?.Split(';', StringSplitOptions.TrimEntries).FirstOrDefault(p => p.StartsWith(prefix, StringComparison.Ordinal));

    private static double Avg(double[] sorted) => sorted.Length == 0 ? double.NaN : sorted.Average();

    private static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>Which configuration a row ran: the ratio table pairs policies of the same rate and worker split.</summary>
public sealed record RunKey(double TimeScale, int PrefillWorkers, string Policy, PolicyRow Row);

/// <summary>Goodput targets: TTFT measured from the scheduled arrival, ITL as each request's mean gap.</summary>
public readonly record struct Sla(double TtftMs, double ItlMs);

public static class Report
{
    public static string Table(IEnumerable<PolicyRow> rows, Sla sla)
    {
        var b = new StringBuilder();
        b.AppendLine("| policy | offered req/s | ok/failed | TTFT avg | TTFT p50 | TTFT p99 | ITL avg | ITL p50 | ITL p99 | e2e p50 | e2e p99 | KV hit | oracle | % of oracle | out tok/s | req/s | SLA met | goodput req/s | workers seen | router applied | remote prefill |");
        b.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Policy} | {r.OfferedPerSecond:F1} | {r.Completed}/{r.Failed} | {r.TtftAvg:F1} | {r.TtftP50:F1} | {r.TtftP99:F1} | {r.ItlAvg:F2} | {r.ItlP50:F2} | {r.ItlP99:F2} | {r.E2eP50:F1} | {r.E2eP99:F1} | {r.HitRate:P1} | {r.Oracle:P1} | {r.OracleFraction:P0} | {r.OutputTokensPerSecond:F0} | {r.RequestsPerSecond:F2} | {r.SlaMet:P0} | {r.GoodputPerSecond:F2} | {(r.WorkersUsed == 0 ? "n/a" : r.WorkersUsed.ToString(CultureInfo.InvariantCulture))} | {r.AppliedPolicy} | {r.RemotePrefills} |");
        }

        b.AppendLine("Times in ms. KV hit = cached / prompt tokens (usage.prompt_tokens_details.cached_tokens); oracle = the bound of the requests this row sent (a block seen before anywhere is a hit).");
        b.AppendLine(CultureInfo.InvariantCulture,
            $"SLA: TTFT ≤ {sla.TtftMs:0.###} ms counted from the scheduled arrival (client-side wait included) and mean ITL ≤ {sla.ItlMs:0.###} ms per request; goodput = requests meeting both / replay seconds.");
        return b.ToString();
    }

    /// <summary>
    /// Per rate (and worker split), round_robin's average and p99 TTFT over kv_aware's — the anchor's figure of merit;
    /// null unless both policies ran. Failed requests are not in the averages, so the table counts them too.
    /// </summary>
    public static string? Ratios(IReadOnlyList<RunKey> runs)
    {
        var pairs = (
            from kv in runs
            where kv.Policy == "kv_aware"
            from rr in runs
            where rr.Policy == "round_robin" && rr.TimeScale == kv.TimeScale && rr.PrefillWorkers == kv.PrefillWorkers
            select (kv, rr)).ToList();
        if (pairs.Count == 0)
        {
            return null;
        }

        var b = new StringBuilder();
        b.AppendLine("| time scale | workers | offered req/s | TTFT avg rr / kv | TTFT p50 rr / kv | TTFT p99 rr / kv | failed rr / kv |");
        b.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (kv, rr) in pairs)
        {
            var split = kv.PrefillWorkers == 0 ? "aggregated" : $"{kv.PrefillWorkers}P";
            b.AppendLine(CultureInfo.InvariantCulture,
                $"| ×{kv.TimeScale:0.###} | {split} | {kv.Row.OfferedPerSecond:F1} | {Ratio(rr.Row.TtftAvg, kv.Row.TtftAvg)} | {Ratio(rr.Row.TtftP50, kv.Row.TtftP50)} | {Ratio(rr.Row.TtftP99, kv.Row.TtftP99)} | {rr.Row.Failed} / {kv.Row.Failed} |");
        }

        return b.ToString();
    }

    /// <summary>
    /// How evenly the work was spread: completed requests and uncached prompt tokens (the prefill work) per worker, from
    /// the router's <c>worker=</c> header. A policy that piles a hot prefix on one worker shows a high max/mean.
    /// </summary>
    public static string Balance(IReadOnlyList<RequestResult> results)
    {
        var perWorker = results.Where(static r => r.Error is null)
            .GroupBy(static r => PolicyRow.Field(r.RoutingHeader, "worker=") ?? "unknown")
            .Select(static g => (Requests: g.Count(), Prefill: g.Sum(static r => (long)(r.PromptTokens - r.CachedTokens))))
            .ToList();
        if (perWorker.Count == 0)
        {
            return "no completed requests";
        }

        var meanPrefill = perWorker.Average(static w => (double)w.Prefill);
        return string.Create(CultureInfo.InvariantCulture,
            $"{perWorker.Count} workers: requests {perWorker.Min(static w => w.Requests)}–{perWorker.Max(static w => w.Requests)}, uncached prompt tokens {perWorker.Min(static w => w.Prefill)}–{perWorker.Max(static w => w.Prefill)} (max/mean {(meanPrefill > 0 ? perWorker.Max(static w => w.Prefill) / meanPrefill : 0):F2})");
    }

    /// <summary>One line per sent request (trace order), for looking into a row: which worker, how much was cached, how long it waited.</summary>
    public static void WriteCsv(string path, IReadOnlyList<RequestResult> results, IReadOnlyList<double> traceOffsetsMs, double timeScale)
    {
        using var csv = new StreamWriter(path);
        csv.WriteLine("index,due_ms,wait_ms,ttft_ms,e2e_ms,prompt_tokens,cached_tokens,output_tokens,worker,overlap,error");
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            csv.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i},{traceOffsetsMs[i] / timeScale:F0},{r.WaitMs:F1},{r.TtftMs:F1},{r.E2eMs:F1},{r.PromptTokens},{r.CachedTokens},{r.OutputTokens},{PolicyRow.Field(r.RoutingHeader, "worker=")?["worker=".Length..]},{PolicyRow.Field(r.RoutingHeader, "overlap=")?["overlap=".Length..]},\"{r.Error?.Replace("\"", "'", StringComparison.Ordinal)}\""));
        }
    }

    private static string Ratio(double a, double b) =>
        b > 0 && double.IsFinite(a) ? string.Create(CultureInfo.InvariantCulture, $"{a / b:0.0#}×") : "n/a";
}
