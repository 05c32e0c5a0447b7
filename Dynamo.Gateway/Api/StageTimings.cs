using System.Globalization;
using System.Text;

namespace Dynamo.Gateway.Api;

/// <summary>
/// The gateway's own stages of one request (key lookup, limits, body, route, upstream until its headers), sent back as a
/// <c>Server-Timing</c> header (W3C Server Timing) when <see cref="Hosting.GatewayOptions.ServerTiming"/> is on, so the added
/// latency can be split without a profiler. Each entry is the time since the previous mark, in milliseconds.
/// </summary>
internal sealed class StageTimings(TimeProvider time, long startTimestamp)
{
    public const string HeaderName = "Server-Timing";

    private readonly List<(string Stage, long Timestamp)> _marks = new(6);

    public void Mark(string stage) => _marks.Add((stage, time.GetTimestamp()));

    public string Header()
    {
        var text = new StringBuilder();
        var previous = startTimestamp;
        foreach (var (stage, at) in _marks)
        {
            text.Append(text.Length == 0 ? "" : ", ").Append("gw-").Append(stage).Append(";dur=")
                .Append(time.GetElapsedTime(previous, at).TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture));
            previous = at;
        }

        return text.ToString();
    }
}
