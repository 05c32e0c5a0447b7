using System.Text;

namespace Dynamo.Router.Generation;

/// <summary>
/// Finds stop strings in streamed text that arrives in arbitrary pieces. Text that could be the start of a stop
/// string is held back until the next piece decides it, so a client never sees part of a stop string; on a
/// match, the text before it is released and the rest is cut. One instance per choice; not thread-safe.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private readonly StringBuilder _held = new();

    public StopStringMatcher(IReadOnlyList<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        foreach (var stop in stops)
        {
            ArgumentException.ThrowIfNullOrEmpty(stop, nameof(stops));
        }

        _stops = [.. stops];
    }

    /// <summary>True once a stop string matched; later pushes return nothing.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Characters held back as a possible stop-string prefix.</summary>
    public int HeldLength => _held.Length;

    /// <summary>Adds text; returns what may be shown now (possibly empty).</summary>
    public string Push(string text)
    {
        if (Stopped)
        {
            return string.Empty;
        }

        if (_stops.Length == 0)
        {
            return text;
        }

        _held.Append(text);
        var buffer = _held.ToString();
        var cut = -1;
        foreach (var stop in _stops)
        {
            var at = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
            {
                cut = at;
            }
        }

        if (cut >= 0)
        {
            Stopped = true;
            _held.Clear();
            return buffer[..cut];
        }

        var keep = LongestStopPrefixSuffix(buffer);
        _held.Clear().Append(buffer, buffer.Length - keep, keep);
        return buffer[..^keep];
    }

    /// <summary>The stream ended without a match: releases what was held back.</summary>
    public string Flush()
    {
        var rest = Stopped ? string.Empty : _held.ToString();
        _held.Clear();
        return rest;
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of some stop string.</summary>
    private int LongestStopPrefixSuffix(string text)
    {
        var best = 0;
        foreach (var stop in _stops)
        {
            for (var length = Math.Min(stop.Length - 1, text.Length); length > best; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    best = length;
                    break;
                }
            }
        }

        return best;
    }
}
