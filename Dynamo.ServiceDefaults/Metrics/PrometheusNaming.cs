using System.Globalization;
using System.Text;

namespace Dynamo.ServiceDefaults.Metrics;

/// <summary>
/// Maps OpenTelemetry-style instrument names, units and tags onto Prometheus text-format names
/// (following the OpenTelemetry "Prometheus and OpenMetrics compatibility" rules), so that
/// <c>dynamo.frontend.requests</c> becomes <c>dynamo_frontend_requests_total</c> and
/// <c>http.server.request.duration</c> in <c>s</c> becomes <c>http_server_request_duration_seconds</c>.
/// </summary>
internal static class PrometheusNaming
{
    private static readonly Dictionary<string, string> s_units = new(StringComparer.Ordinal)
    {
        ["d"] = "days", ["h"] = "hours", ["min"] = "minutes", ["s"] = "seconds",
        ["ms"] = "milliseconds", ["us"] = "microseconds", ["ns"] = "nanoseconds",
        ["By"] = "bytes", ["KiBy"] = "kibibytes", ["MiBy"] = "mebibytes", ["GiBy"] = "gibibytes",
        ["TiBy"] = "tebibytes", ["KBy"] = "kilobytes", ["MBy"] = "megabytes", ["GBy"] = "gigabytes",
        ["TBy"] = "terabytes", ["m"] = "meters", ["V"] = "volts", ["A"] = "amperes", ["J"] = "joules",
        ["W"] = "watts", ["g"] = "grams", ["Cel"] = "celsius", ["Hz"] = "hertz", ["%"] = "percent",
    };

    private static readonly Dictionary<string, string> s_perUnits = new(StringComparer.Ordinal)
    {
        ["s"] = "second", ["m"] = "minute", ["h"] = "hour", ["d"] = "day", ["w"] = "week",
        ["mo"] = "month", ["y"] = "year",
    };

    public static string MetricName(string instrumentName, string? unit, PrometheusMetricType type)
    {
        var name = Sanitize(instrumentName, allowColon: true);
        if (type == PrometheusMetricType.Counter && name.EndsWith("_total", StringComparison.Ordinal) && name.Length > "_total".Length)
        {
            name = name[..^"_total".Length];
        }

        var suffix = UnitSuffix(unit, type);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name = name + "_" + suffix;
        }

        return type == PrometheusMetricType.Counter ? name + "_total" : name;
    }

    public static string LabelName(string tagKey) => Sanitize(tagKey, allowColon: false);

    /// <summary>Unit text to append; curly-brace annotations such as <c>{request}</c> carry no unit.</summary>
    internal static string UnitSuffix(string? unit, PrometheusMetricType type)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return "";
        }

        if (unit == "1")
        {
            return type == PrometheusMetricType.Gauge ? "ratio" : "";
        }

        var slash = unit.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            var top = MapUnit(unit[..slash], s_units);
            var bottom = MapUnit(unit[(slash + 1)..], s_perUnits);
            return (top.Length, bottom.Length) switch
            {
                (0, 0) => "",
                (0, _) => "per_" + bottom,
                (_, 0) => top,
                _ => top + "_per_" + bottom,
            };
        }

        return MapUnit(unit, s_units);
    }

    private static string MapUnit(string unit, Dictionary<string, string> map)
    {
        var trimmed = StripAnnotations(unit).Trim();
        if (trimmed.Length == 0)
        {
            return "";
        }

        return map.TryGetValue(trimmed, out var known) ? known : Sanitize(trimmed, allowColon: false).Trim('_');
    }

    private static string StripAnnotations(string unit)
    {
        if (!unit.Contains('{', StringComparison.Ordinal))
        {
            return unit;
        }

        var sb = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{') { depth++; }
            else if (c == '}') { depth = Math.Max(0, depth - 1); }
            else if (depth == 0) { sb.Append(c); }
        }

        return sb.ToString();
    }

    /// <summary>Replaces characters outside <c>[a-zA-Z0-9_:]</c> with <c>_</c> and collapses runs of underscores.</summary>
    internal static string Sanitize(string name, bool allowColon)
    {
        var sb = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            var valid = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') || (allowColon && c == ':');
            var next = valid ? c : '_';
            if (next == '_' && sb.Length > 0 && sb[^1] == '_')
            {
                continue;
            }

            sb.Append(next);
        }

        if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, '_');
        }

        return sb.ToString();
    }

    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public static string TagValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static void AppendEscapedLabelValue(StringBuilder sb, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                default: sb.Append(c); break;
            }
        }
    }

    public static string EscapeHelp(string help) => help.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);
}
