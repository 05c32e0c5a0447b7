using Dynamo.Runtime.Gguf;

namespace Dynamo.Runtime.Tokenization;

/// <summary>Builds the tokenizer a GGUF file describes (<c>tokenizer.ggml.model</c> and <c>tokenizer.ggml.pre</c>).</summary>
public static class Tokenizer
{
    public static ITokenizer FromFile(string path)
    {
        using var gguf = GgufReader.Open(path);
        return FromGguf(gguf);
    }

    public static ITokenizer FromGguf(GgufReader gguf)
    {
        ArgumentNullException.ThrowIfNull(gguf);
        var model = gguf.TryGetString("tokenizer.ggml.model", out var m)
            ? m
            : throw new InvalidDataException("GGUF file has no tokenizer (tokenizer.ggml.model is missing).");
        gguf.TryGetString("tokenizer.ggml.pre", out var pre);

        switch (model)
        {
            case "llama":
                return new SpmTokenizer(Vocabulary.Load(gguf, TokenizerModel.Spm, default));
            case "gpt2":
                var (name, kind, options) = PreTokenizers.Resolve(pre);
                var vocab = Vocabulary.Load(gguf, TokenizerModel.Bpe, options);
                return new BpeTokenizer(vocab, gguf, name, kind, options);
            default:
                throw new NotSupportedException(
                    $"Unsupported tokenizer model 'tokenizer.ggml.model = {model}'. Supported: llama (SentencePiece BPE), gpt2 (byte-level BPE).");
        }
    }
}
