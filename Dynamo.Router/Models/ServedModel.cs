using Dynamo.Router.Templates;
using Dynamo.Runtime.Gguf;
using Dynamo.Runtime.Tokenization;

namespace Dynamo.Router.Models;

/// <summary>
/// What the router needs of the model its workers serve: the tokenizer, the chat template (compiled once, so an
/// unsupported template fails at load) and the context length. Immutable and thread-safe.
/// </summary>
public sealed class ServedModel
{
    private ServedModel(string name, string path, ITokenizer tokenizer, ChatTemplate template, int contextLength)
    {
        Name = name;
        Path = path;
        Tokenizer = tokenizer;
        Template = template;
        ContextLength = contextLength;
    }

    public string Name { get; }

    public string Path { get; }

    public ITokenizer Tokenizer { get; }

    public ChatTemplate Template { get; }

    /// <summary>Tokens of prompt plus completion one sequence may hold (<c>{arch}.context_length</c>).</summary>
    public int ContextLength { get; }

    /// <summary>A model assembled from parts (benchmarks pair fixture vocabularies with real templates).</summary>
    internal static ServedModel Create(string name, ITokenizer tokenizer, ChatTemplate template, int contextLength) =>
        new(name, "(in memory)", tokenizer, template, contextLength);

    /// <summary>Reads a GGUF; <paramref name="chatTemplatePath"/> (when set) replaces its <c>tokenizer.chat_template</c>.</summary>
    /// <exception cref="InvalidDataException">The file lacks a tokenizer or a context length.</exception>
    /// <exception cref="Templates.Jinja.TemplateException">The template uses a construct the engine does not support.</exception>
    public static ServedModel Load(string name, string path, string? chatTemplatePath, TimeProvider? timeProvider = null)
    {
        using var gguf = GgufReader.Open(path);
        var tokenizer = Dynamo.Runtime.Tokenization.Tokenizer.FromGguf(gguf);
        var contextLength = ReadContextLength(gguf, path);
        gguf.TryGetString("tokenizer.chat_template", out var ggufTemplate);
        var bos = tokenizer.Special.Bos is { } b ? tokenizer.GetTokenText(b) : null;
        var eos = tokenizer.Special.Eos is { } e ? tokenizer.GetTokenText(e) : null;
        var template = ChatTemplate.FromModel(chatTemplatePath, ggufTemplate, bos, eos, timeProvider);
        return new ServedModel(name, path, tokenizer, template, contextLength);
    }

    private static int ReadContextLength(GgufReader gguf, string path)
    {
        if (!gguf.TryGetString("general.architecture", out var architecture))
        {
            throw new InvalidDataException($"{path} has no general.architecture, so its context length is unknown.");
        }

        var key = $"{architecture}.context_length";
        if (gguf.TryGetUInt32(key, out var u32) && u32 > 0)
        {
            return (int)Math.Min(u32, int.MaxValue);
        }

        if (gguf.TryGetUInt64(key, out var u64) && u64 > 0)
        {
            return (int)Math.Min(u64, int.MaxValue);
        }

        throw new InvalidDataException($"{path} has no {key}.");
    }
}
