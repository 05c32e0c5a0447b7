using System.Text.Json;

namespace Dynamo.Replay;

/// <summary>One line of a Mooncake-format trace: arrival (ms), lengths in tokens, one hash id per 512-token block.</summary>
public sealed record TraceRequest(long TimestampMs, int InputLength, int OutputLength, IReadOnlyList<long> HashIds);

/// <summary>Reads Mooncake-format JSONL; a malformed line stops the run naming its line number.</summary>
public static class TraceReader
{
    public const int TraceBlockTokens = 512;

    /// <summary>Reads up to <paramref name="maxRequests"/> requests after skipping the first <paramref name="skip"/> (a window of the trace).</summary>
    /// <exception cref="FormatException">A line is not a valid trace record.</exception>
    public static List<TraceRequest> Read(string path, int maxRequests, int skip = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Trace file not found: {path}", path);
        }

        var requests = new List<TraceRequest>();
        var lineNumber = 0;
        var skipped = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (requests.Count == maxRequests)
            {
                break;
            }

            // Skipped lines are parsed too: a malformed line is reported wherever it is.
            var request = Parse(line, path, lineNumber);
            if (skipped < skip)
            {
                skipped++;
                continue;
            }

            requests.Add(request);
        }

        if (requests.Count == 0)
        {
            throw new FormatException(skip == 0 ? $"{path}: the trace holds no requests." : $"{path}: the trace holds no requests after the first {skip}.");
        }

        return requests;
    }

    public static TraceRequest Parse(string line, string path, int lineNumber)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("expected a JSON object");
            }

            var timestamp = Required(root, "timestamp").GetInt64();
            var input = Required(root, "input_length").GetInt32();
            var output = Required(root, "output_length").GetInt32();
            var hashes = Required(root, "hash_ids");
            if (hashes.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("hash_ids must be an array of integers");
            }

            var ids = hashes.EnumerateArray().Select(static h => h.GetInt64()).ToArray();
            if (timestamp < 0 || input < 1 || output < 1)
            {
                throw new FormatException("timestamp must be ≥ 0 and input_length, output_length ≥ 1");
            }

            var expectedBlocks = (input + TraceBlockTokens - 1) / TraceBlockTokens;
            if (ids.Length != expectedBlocks)
            {
                throw new FormatException($"input_length {input} needs {expectedBlocks} hash_ids of {TraceBlockTokens} tokens, found {ids.Length}");
            }

            return new TraceRequest(timestamp, input, output, ids);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new FormatException($"{path}:{lineNumber}: malformed trace line ({e.Message}).", e);
        }
    }

    private static JsonElement Required(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value : throw new FormatException($"missing \"{name}\"");
}
