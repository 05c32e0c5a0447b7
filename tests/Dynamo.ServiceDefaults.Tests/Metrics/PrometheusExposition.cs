using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Dynamo.ServiceDefaults.Tests.Metrics;

internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool HasLabels(params (string Name, string Value)[] labels) =>
        labels.All(l => Labels.TryGetValue(l.Name, out var v) && v == l.Value);
}

/// <summary>
/// A strict parser for the Prometheus text exposition format 0.0.4. It rejects anything a real
/// Prometheus would reject and also what it would silently accept but is wrong for us: duplicate
/// TYPE lines, samples before their TYPE, interleaved families, duplicate series, and histograms
/// whose buckets are not cumulative or disagree with _count.
/// </summary>
internal sealed partial class PrometheusExposition
{
    private static readonly HashSet<string> s_types = ["counter", "gauge", "histogram", "summary", "untyped"];

    public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Help { get; } = new(StringComparer.Ordinal);

    public List<PrometheusSample> Samples { get; } = [];

    public static PrometheusExposition Parse(string text)
    {
        var result = new PrometheusExposition();
        if (text.Length == 0)
        {
            return result;
        }

        if (!text.EndsWith('\n'))
        {
            throw new FormatException("The exposition must end with a line feed.");
        }

        var finishedFamilies = new HashSet<string>(StringComparer.Ordinal);
        var seriesSeen = new HashSet<string>(StringComparer.Ordinal);
        string? currentFamily = null;
        var lines = text[..^1].Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var where = $"line {i + 1} '{line}'";
            if (line.Length == 0)
            {
                throw new FormatException($"Empty {where}.");
            }

            string family;
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var rest = line["# HELP ".Length..];
                var space = rest.IndexOf(' ');
                family = space < 0 ? rest : rest[..space];
                RequireMetricName(family, where);
                if (!result.Help.TryAdd(family, UnescapeHelp(space < 0 ? "" : rest[(space + 1)..], where)))
                {
                    throw new FormatException($"Second HELP for {family} at {where}.");
                }
            }
            else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line["# TYPE ".Length..].Split(' ');
                if (parts.Length != 2 || !s_types.Contains(parts[1]))
                {
                    throw new FormatException($"Malformed TYPE at {where}.");
                }

                family = parts[0];
                RequireMetricName(family, where);
                if (result.Samples.Any(s => FamilyOf(s.Name, result.Types) == family))
                {
                    throw new FormatException($"TYPE for {family} after its samples at {where}.");
                }

                if (!result.Types.TryAdd(family, parts[1]))
                {
                    throw new FormatException($"Second TYPE for {family} at {where}.");
                }
            }
            else if (line.StartsWith('#'))
            {
                continue;
            }
            else
            {
                var sample = ParseSample(line, where);
                family = FamilyOf(sample.Name, result.Types);
                if (!result.Types.ContainsKey(family))
                {
                    throw new FormatException($"Sample without a TYPE line at {where}.");
                }

                var key = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
                if (!seriesSeen.Add(key))
                {
                    throw new FormatException($"Duplicate series {key} at {where}.");
                }

                result.Samples.Add(sample);
            }

            if (family != currentFamily)
            {
                if (!finishedFamilies.Add(family))
                {
                    throw new FormatException($"Family {family} is not contiguous ({where}).");
                }

                currentFamily = family;
            }
        }

        result.ValidateHistograms();
        return result;
    }

    public IReadOnlyList<PrometheusSample> Find(string name, params (string Name, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && s.HasLabels(labels)).ToList();

    /// <summary>The value of the one sample with this name whose labels include <paramref name="labels"/>.</summary>
    public double Value(string name, params (string Name, string Value)[] labels)
    {
        var matches = Find(name, labels);
        return matches.Count == 1
            ? matches[0].Value
            : throw new InvalidOperationException($"Expected one sample {name} with [{string.Join(",", labels)}], found {matches.Count}.");
    }

    private static string FamilyOf(string sampleName, Dictionary<string, string> types)
    {
        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && types.TryGetValue(sampleName[..^suffix.Length], out var type) && type is "histogram" or "summary")
            {
                return sampleName[..^suffix.Length];
            }
        }

        return sampleName;
    }

    private void ValidateHistograms()
    {
        foreach (var (family, type) in Types)
        {
            if (type != "histogram")
            {
                continue;
            }

            var buckets = Samples.Where(s => s.Name == family + "_bucket").GroupBy(s => SeriesKey(s, "le"));
            foreach (var series in buckets)
            {
                var ordered = series.Select(s => (Le: ParseValue(s.Labels["le"], "le"), s.Value)).ToList();
                for (var i = 1; i < ordered.Count; i++)
                {
                    if (!(ordered[i].Le > ordered[i - 1].Le))
                    {
                        throw new FormatException($"{family}{{{series.Key}}}: le values are not increasing.");
                    }

                    if (ordered[i].Value < ordered[i - 1].Value)
                    {
                        throw new FormatException($"{family}{{{series.Key}}}: buckets are not cumulative.");
                    }
                }

                if (ordered.Count == 0 || !double.IsPositiveInfinity(ordered[^1].Le))
                {
                    throw new FormatException($"{family}{{{series.Key}}}: no +Inf bucket.");
                }

                var count = Samples.SingleOrDefault(s => s.Name == family + "_count" && SeriesKey(s, null) == series.Key)
                    ?? throw new FormatException($"{family}{{{series.Key}}}: no _count.");
                _ = Samples.SingleOrDefault(s => s.Name == family + "_sum" && SeriesKey(s, null) == series.Key)
                    ?? throw new FormatException($"{family}{{{series.Key}}}: no _sum.");
                if (count.Value != ordered[^1].Value)
                {
                    throw new FormatException($"{family}{{{series.Key}}}: _count {count.Value} differs from +Inf bucket {ordered[^1].Value}.");
                }
            }
        }
    }

    private static string SeriesKey(PrometheusSample sample, string? without) =>
        string.Join(",", sample.Labels.Where(l => l.Key != without).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value));

    private static PrometheusSample ParseSample(string line, string where)
    {
        var match = SampleRegex().Match(line);
        if (!match.Success)
        {
            throw new FormatException($"Malformed sample at {where}.");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var text = match.Groups["labels"].Value;
        var pos = 0;
        while (pos < text.Length)
        {
            var eq = text.IndexOf('=', pos);
            if (eq < 0)
            {
                throw new FormatException($"Malformed labels at {where}.");
            }

            var name = text[pos..eq];
            if (!LabelNameRegex().IsMatch(name) || eq + 1 >= text.Length || text[eq + 1] != '"')
            {
                throw new FormatException($"Bad label name '{name}' at {where}.");
            }

            var value = new StringBuilder();
            var j = eq + 2;
            for (; j < text.Length && text[j] != '"'; j++)
            {
                if (text[j] == '\\')
                {
                    j++;
                    value.Append(j < text.Length ? text[j] switch
                    {
                        '\\' => '\\',
                        '"' => '"',
                        'n' => '\n',
                        _ => throw new FormatException($"Bad escape in label value at {where}."),
                    } : throw new FormatException($"Dangling escape at {where}."));
                }
                else
                {
                    value.Append(text[j]);
                }
            }

            if (j >= text.Length)
            {
                throw new FormatException($"Unterminated label value at {where}.");
            }

            if (!labels.TryAdd(name, value.ToString()))
            {
                throw new FormatException($"Repeated label {name} at {where}.");
            }

            pos = j + 1;
            if (pos < text.Length)
            {
                if (text[pos] != ',')
                {
                    throw new FormatException($"Expected ',' between labels at {where}.");
                }

                pos++;
            }
        }

        return new PrometheusSample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value, where));
    }

    private static double ParseValue(string text, string where) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"Bad value '{text}' at {where}."),
    };

    private static string UnescapeHelp(string text, string where)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                sb.Append(text[i]);
                continue;
            }

            i++;
            sb.Append(i < text.Length ? text[i] switch
            {
                '\\' => '\\',
                'n' => '\n',
                _ => throw new FormatException($"Bad escape in HELP at {where}."),
            } : throw new FormatException($"Dangling escape in HELP at {where}."));
        }

        return sb.ToString();
    }

    private static void RequireMetricName(string name, string where)
    {
        if (!MetricNameRegex().IsMatch(name))
        {
            throw new FormatException($"Bad metric name '{name}' at {where}.");
        }
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricNameRegex();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelNameRegex();

    // Label values may contain '}' and spaces, so the label block is matched up to the last '}' before the value.
    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$""")]
    private static partial Regex SampleRegex();
}
