using System.Globalization;
using System.Net;
using System.Text;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Admin.Components.Shared;

/// <summary>
/// Server-drawn SVG of the planner's history (decisions come every planner interval, so a page load is fresh enough);
/// same fixed size and look as live.js's charts.
/// </summary>
public static class PlannerCharts
{
    private const int Width = 560;
    private const int Height = 170;
    private const int Left = 44;
    private const int Bottom = 18;
    private const int MaxDecisions = 120;
    private static readonly string[] Colors = ["#0ea5e9", "#8b5cf6", "#10b981", "#f59e0b"];

    public static string Load(IReadOnlyList<PlannerDecision> decisions)
    {
        var ordered = decisions.Take(MaxDecisions).Reverse().ToList();
        return Draw(ordered, [
            ("observed req/s", ordered.Select(d => d.Observed.RequestsPerSecond).ToList()),
            ("predicted req/s", ordered.Select(d => d.Predicted.RequestsPerSecond).ToList()),
        ]);
    }

    public static string Replicas(IReadOnlyList<PlannerDecision> decisions)
    {
        var ordered = decisions.Take(MaxDecisions).Reverse().ToList();
        var pools = ordered.SelectMany(d => d.Pools.Select(p => p.Pool)).Distinct(StringComparer.Ordinal).ToList();
        return Draw(ordered, [.. pools.Select(pool => (pool + " replicas",
            ordered.Select(d => (double)(d.Pools.FirstOrDefault(p => p.Pool == pool)?.TargetReplicas ?? 0)).ToList()))], wholeNumbers: true);
    }

    /// <param name="wholeNumbers">Replica counts: the axis tops out at a multiple of 4 above the largest value, so every gridline is a whole replica count.</param>
    private static string Draw(List<PlannerDecision> ordered, List<(string Label, List<double> Values)> series, bool wholeNumbers = false)
    {
        if (ordered.Count == 0)
        {
            return "<div class=\"muted small\">No decisions yet.</div>";
        }

        var max = series.SelectMany(s => s.Values).DefaultIfEmpty(0).Max();
        max = wholeNumbers ? 4 * Math.Ceiling((max + 1) / 4) : max > 0 ? max * 1.1 : 1;
        var n = ordered.Count;
        double X(int i) => Left + (n <= 1 ? 0 : (double)i / (n - 1) * (Width - Left - 4));
        double Y(double v) => 4 + (Height - Bottom - 4) * (1 - v / max);
        var svg = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {Width} {Height}\" width=\"100%\" height=\"{Height}\" preserveAspectRatio=\"none\">");
        for (var g = 0; g <= 4; g++)
        {
            var v = max * g / 4;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width}\" y1=\"{Y(v):0.0}\" y2=\"{Y(v):0.0}\" stroke=\"#eef0f3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 4}\" y=\"{Y(v) + 4:0.0}\" text-anchor=\"end\" font-size=\"10\" fill=\"#6b7280\">{v:0.##}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{Height - 4}\" font-size=\"10\" fill=\"#6b7280\">{Fmt.Time(ordered[0].Timestamp)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - 4}\" y=\"{Height - 4}\" text-anchor=\"end\" font-size=\"10\" fill=\"#6b7280\">{Fmt.Time(ordered[^1].Timestamp)}</text>");
        var legend = new StringBuilder("<div class=\"legend\">");
        for (var s = 0; s < series.Count; s++)
        {
            var color = Colors[s % Colors.Length];
            var points = string.Join(' ', series[s].Values.Select((v, i) => string.Create(CultureInfo.InvariantCulture, $"{X(i):0.0},{Y(v):0.0}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points}\"/>");
            legend.Append(CultureInfo.InvariantCulture, $"<span><i style=\"background:{color}\"></i>{WebUtility.HtmlEncode(series[s].Label)}</span>");
        }

        return svg.Append("</svg>").Append(legend).Append("</div>").ToString();
    }
}
