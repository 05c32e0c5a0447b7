using System.Globalization;

namespace Dynamo.Admin.Components.Shared;

/// <summary>Every number the pages show goes through here, so each carries its unit and a stable width.</summary>
public static class Fmt
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Ms(double value) => value >= 10_000 ? $"{(value / 1000).ToString("0.0", Invariant)} s" : $"{value.ToString("0", Invariant)} ms";

    public static string Rate(double value, string unit) => $"{value.ToString(value >= 100 ? "0" : "0.0", Invariant)} {unit}";

    public static string Percent(double fraction) => $"{(fraction * 100).ToString("0.0", Invariant)} %";

    public static string Count(long value, string unit) => $"{value.ToString("N0", Invariant)} {unit}";

    public static string Tokens(double value) => $"{value.ToString("0", Invariant)} tok";

    public static string Time(DateTimeOffset? value) => value is { } v ? v.ToUniversalTime().ToString("HH:mm:ss", Invariant) + " UTC" : "–";

    public static string Ago(DateTimeOffset? value, DateTimeOffset now) =>
        value is { } v ? $"{Math.Max(0, (now - v).TotalSeconds).ToString("0.0", Invariant)} s ago" : "never";

    /// <summary>"breach" over the target, "warn" above 80 % of it, "ok" otherwise; "idle" with no samples.</summary>
    public static string SlaClass(double value, double target) =>
        value <= 0 || target <= 0 ? "idle" : value > target ? "breach" : value > 0.8 * target ? "warn" : "ok";
}
