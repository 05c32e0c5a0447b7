using Dynamo.Runtime.Gguf;

namespace Dynamo.Replay;

/// <summary>
/// A weightless GGUF for the router: the served model's metadata (tokenizer, chat template, architecture) with a
/// larger <c>{arch}.context_length</c>. The router reads nothing else from its model file and mocker workers read no
/// weights, so this lets the trace's real prompt lengths (up to ~190 K tokens) through a router whose default model
/// was generated with a 4,096-token context, without generating a large model.
/// </summary>
public static class RouterModelCard
{
    /// <summary>The model's own context length (<c>{general.architecture}.context_length</c>).</summary>
    /// <exception cref="InvalidDataException">The file has no architecture or context length.</exception>
    public static long ContextLength(string modelPath)
    {
        using var gguf = GgufReader.Open(modelPath);
        var key = ContextKey(gguf, modelPath);
        return gguf.TryGetValue(key, out var value)
            ? value.AsInt64()
            : throw new InvalidDataException($"{modelPath} has no {key}.");
    }

    /// <summary>Writes <paramref name="modelPath"/>'s metadata, tensors left out, with the context set to <paramref name="contextLength"/>.</summary>
    /// <exception cref="InvalidDataException">The file has no architecture.</exception>
    /// <exception cref="NotSupportedException">The file has an array of arrays, which GgufWriter does not write.</exception>
    public static void Write(string modelPath, uint contextLength, string outputPath)
    {
        ArgumentOutOfRangeException.ThrowIfZero(contextLength);
        using var gguf = GgufReader.Open(modelPath);
        var contextKey = ContextKey(gguf, modelPath);
        var writer = new GgufWriter(gguf.Alignment);
        foreach (var (key, value) in gguf.MetadataInFileOrder)
        {
            if (key is "general.alignment" || key == contextKey)
            {
                continue;
            }

            writer.Add(key, value);
        }

        writer.Add(contextKey, contextLength);
        writer.WriteTo(outputPath);
    }

    private static string ContextKey(GgufReader gguf, string path) =>
        gguf.TryGetString("general.architecture", out var architecture)
            ? $"{architecture}.context_length"
            : throw new InvalidDataException($"{path} has no general.architecture, so its context length key is unknown.");
}
