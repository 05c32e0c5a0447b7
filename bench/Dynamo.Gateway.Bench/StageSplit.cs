using System.Collections.Concurrent;
using System.Globalization;

namespace Dynamo.Gateway.Bench;

/// <summary>
/// The gateway's <c>Server-Timing</c> stages (key, limits, body, route, upstream until the router's headers) collected per
/// path, printed as medians: where the gateway's added time goes, without a profiler.
/// </summary>
internal static class StageSplit
{
    public const string HeaderName = "Server-Timing";

    private static readonly ConcurrentDictionary<Uri, ConcurrentDictionary<string, ConcurrentBag<double>>> s_samples = new();

    // The stages in the order the gateway marks them (the header's order), for the table's columns.
    private static readonly ConcurrentDictionary<string, int> s_order = new();

    public static void Record(Uri path, IEnumerable<string> values)
    {
        var stages = s_samples.GetOrAdd(path, _ => new());
        foreach (var entry in values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            var parts = entry.Split(";dur=");
            if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            {
                stages.GetOrAdd(parts[0], _ => []).Add(ms * 1000);
                s_order.TryAdd(parts[0], s_order.Count);
            }
        }
    }

    public static void Clear() => s_samples.Clear();

    public static void Print(IEnumerable<(string Name, Uri Url)> paths)
    {
        var rows = paths.Where(p => s_samples.ContainsKey(p.Url)).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        var names = rows.SelectMany(r => s_samples[r.Url].Keys).Distinct().OrderBy(n => s_order.GetValueOrDefault(n)).ToList();
        Console.WriteLine();
        Console.WriteLine("Gateway stages (Server-Timing, µs, median per request; gw-upstream = request sent until the router's headers)");
        Console.WriteLine($"| path | {string.Join(" | ", names)} |");
        Console.WriteLine($"|---|{string.Concat(names.Select(_ => "---:|"))}");
        foreach (var (name, url) in rows)
        {
            var cells = names.Select(n => s_samples[url].TryGetValue(n, out var v) && !v.IsEmpty ? Median(v).ToString("0", CultureInfo.InvariantCulture) : "—");
            Console.WriteLine($"| {name} | {string.Join(" | ", cells)} |");
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
