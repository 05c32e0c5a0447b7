using System.Globalization;
using System.Text;

namespace Dynamo.Replay;

/// <summary>One policy's aggregated figures.</summary>
public sealed record PolicyRow(
    string Policy, int Completed, int Failed, double TtftAvg, double TtftP50, double TtftP99, double ItlAvg, double ItlP50,
    double ItlP99, double E2eP50, double E2eP99, double HitRate, double OracleFraction, double OutputTokensPerSecond,
    double RequestsPerSecond, int WorkersUsed, string AppliedPolicy, int RemotePrefills = 0, double OfferedPerSecond = 0,
    double GoodputPerSecond = 0, double SlaMet = 0)
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
            results.Count == 0 ? 0 : (double)results.Count(r => r.MeetsSla(sla.TtftMs, sla.ItlMs)) / results.Count);
    }

    // The router's decision header: "worker=<id>; policy=<name>; overlap=…" (absent on routers without it).
    private static string? Field(string? header, string prefix) =>
        header?.Split(';', StringSplitOptions.TrimEntries).FirstOrDefault(p => p.StartsWith(prefix, StringComparison.Ordinal));

    private static double Avg(double[] sorted) => sorted.Length == 0 ? double.NaN : sorted.Average();

    private static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>Goodput targets: TTFT measured from the scheduled arrival, ITL as each request's mean gap.</summary>
public readonly record struct Sla(double TtftMs, double ItlMs);

public static class Report
{
    public static string Table(IEnumerable<PolicyRow> rows, double oracle, Sla sla)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"Oracle KV hit rate of the replayed subset: {oracle:P1}");
        b.AppendLine("| policy | offered req/s | ok/failed | TTFT avg | TTFT p50 | TTFT p99 | ITL avg | ITL p50 | ITL p99 | e2e p50 | e2e p99 | KV hit | % of oracle | out tok/s | req/s | SLA met | goodput req/s | workers seen | router applied | remote prefill |");
        b.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Policy} | {r.OfferedPerSecond:F1} | {r.Completed}/{r.Failed} | {r.TtftAvg:F1} | {r.TtftP50:F1} | {r.TtftP99:F1} | {r.ItlAvg:F2} | {r.ItlP50:F2} | {r.ItlP99:F2} | {r.E2eP50:F1} | {r.E2eP99:F1} | {r.HitRate:P1} | {r.OracleFraction:P0} | {r.OutputTokensPerSecond:F0} | {r.RequestsPerSecond:F2} | {r.SlaMet:P0} | {r.GoodputPerSecond:F2} | {(r.WorkersUsed == 0 ? "n/a" : r.WorkersUsed.ToString(CultureInfo.InvariantCulture))} | {r.AppliedPolicy} | {r.RemotePrefills} |");
        }

        b.AppendLine("Times in ms. KV hit = cached / prompt tokens (usage.prompt_tokens_details.cached_tokens).");
        b.AppendLine(CultureInfo.InvariantCulture,
            $"SLA: TTFT ≤ {sla.TtftMs:0.###} ms counted from the scheduled arrival (client-side wait included) and mean ITL ≤ {sla.ItlMs:0.###} ms per request; goodput = requests meeting both / replay seconds.");
        return b.ToString();
    }
}
