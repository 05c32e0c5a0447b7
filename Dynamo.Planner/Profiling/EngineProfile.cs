using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dynamo.Planner.Profiling;

/// <summary>
/// What the profiling command measured on one engine: prefill time against prompt length and decode step time against
/// batch size and context length. The planner's replica math reads it (<see cref="PerformanceModel"/>). This file is
/// also compiled into bench/Dynamo.Planner.Bench, which writes it, so both ends share one shape.
/// </summary>
public sealed record EngineProfile(
    string Engine,
    string Description,
    DateTimeOffset MeasuredAt,
    int MaxNumBatchedTokens,
    long KvCapacityTokens,
    IReadOnlyList<PrefillPoint> Prefill,
    IReadOnlyList<DecodePoint> Decode)
{
    /// <summary>Every problem that makes the profile unusable; empty when it is fine.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Prefill is null || Prefill.Count < 2)
        {
            errors.Add("A profile needs at least two prefill points (prompt lengths).");
        }
        else if (Prefill.Any(p => p.InputTokens <= 0 || !double.IsFinite(p.Milliseconds) || p.Milliseconds <= 0))
        {
            errors.Add("Prefill points need positive input tokens and milliseconds.");
        }

        if (Decode is null || Decode.Count == 0)
        {
            errors.Add("A profile needs at least one decode point.");
        }
        else if (Decode.Any(p => p.BatchSize <= 0 || p.ContextTokens <= 0 || !double.IsFinite(p.StepMilliseconds) || p.StepMilliseconds <= 0))
        {
            errors.Add("Decode points need a positive batch size, context and step milliseconds.");
        }

        return errors;
    }

    public static EngineProfile Load(string path)
    {
        using var stream = File.OpenRead(path);
        var profile = JsonSerializer.Deserialize(stream, EngineProfileJsonContext.Default.EngineProfile)
            ?? throw new InvalidDataException($"The engine profile '{path}' is JSON null.");
        var errors = profile.Validate();
        return errors.Count == 0
            ? profile
            : throw new InvalidDataException($"The engine profile '{path}' is unusable: {string.Join(" ", errors)}");
    }

    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, JsonSerializer.Serialize(this, EngineProfileJsonContext.Default.EngineProfile));
    }
}

/// <summary>Time to prefill <see cref="InputTokens"/> uncached prompt tokens of one request on an idle engine.</summary>
public sealed record PrefillPoint(int InputTokens, double Milliseconds);

/// <summary>Time of one decode step with <see cref="BatchSize"/> sequences of about <see cref="ContextTokens"/> tokens each.</summary>
public sealed record DecodePoint(int BatchSize, int ContextTokens, double StepMilliseconds);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(EngineProfile))]
public sealed partial class EngineProfileJsonContext : JsonSerializerContext;
