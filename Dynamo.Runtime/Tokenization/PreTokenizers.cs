namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// Names of the byte-level BPE pre-tokenizers this project implements, and the <c>tokenizer.ggml.pre</c> values
/// llama.cpp maps onto each (llama-vocab.cpp). Anything else is rejected with the offending value in the message.
/// </summary>
public static class PreTokenizers
{
    /// <summary>llama.cpp's fallback: punctuation runs, the GPT-2 regex, digit runs, then groups of three ASCII digits.</summary>
    public const string Default = "default";

    /// <summary><c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)</c>.</summary>
    public const string Gpt2 = "gpt-2";

    /// <summary>Llama 3: case-insensitive contractions, <c>\p{N}{1,3}</c>, newline-aware whitespace.</summary>
    public const string Llama3 = "llama3";

    /// <summary>As <see cref="Llama3"/> but digits one at a time.</summary>
    public const string Qwen2 = "qwen2";

    /// <summary>Every digit on its own, then the GPT-2 regex.</summary>
    public const string StarCoder = "starcoder";

    internal static (string Name, PreTokenizerKind Kind, BpeVocabularyOptions Options) Resolve(string? pre)
    {
        switch (pre)
        {
            case null or "":
            case "default":
                return (Default, PreTokenizerKind.Default, new(CleanSpaces: true));
            case "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2" or "jina-v5-nano":
                return (Llama3, PreTokenizerKind.Llama3, new(CleanSpaces: true, IgnoreMerges: true, AddBos: true));
            case "dbrx" or "smaug-bpe":
                return (Llama3, PreTokenizerKind.Llama3, new(CleanSpaces: true));
            case "glm4" or "chatglm-bpe":
                return (Llama3, PreTokenizerKind.Llama3, new(CleanSpaces: true, NoDefaultBos: true));
            case "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v2-es" or "jina-v2-de" or "a.x-4.0"
                or "mellum" or "modern-bert" or "mpt" or "olmo" or "jais" or "exaone4":
                return (Gpt2, PreTokenizerKind.Gpt2, new(CleanSpaces: true));
            case "trillion" or "granite-docling":
                return (Gpt2, PreTokenizerKind.Gpt2, new(CleanSpaces: false));
            case "qwen2" or "deepseek-r1-qwen" or "kormo" or "f2llmv2" or "hunyuan":
                return (Qwen2, PreTokenizerKind.Qwen2, new(CleanSpaces: false));
            case "megrez" or "stablelm2":
                return (Qwen2, PreTokenizerKind.Qwen2, new(CleanSpaces: true));
            case "starcoder" or "refact" or "codeshell" or "exaone" or "minerva-7b" or "mellum2":
                return (StarCoder, PreTokenizerKind.StarCoder, new(CleanSpaces: true));
            case "command-r" or "smollm":
                return (StarCoder, PreTokenizerKind.StarCoder, new(CleanSpaces: false));
            default:
                throw new NotSupportedException(
                    $"Unsupported pre-tokenizer type 'tokenizer.ggml.pre = {pre}'. Supported: default, gpt-2 (and aliases), llama3/llama-bpe, qwen2, starcoder.");
        }
    }
}

internal enum PreTokenizerKind
{
    Default,
    Gpt2,
    Llama3,
    Qwen2,
    StarCoder,
}

/// <summary>Per-pre-tokenizer switches llama.cpp sets in llama_vocab::impl::load.</summary>
internal readonly record struct BpeVocabularyOptions(bool CleanSpaces, bool IgnoreMerges = false, bool AddBos = false, bool NoDefaultBos = false);
