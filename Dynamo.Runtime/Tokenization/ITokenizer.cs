namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// A llama.cpp-compatible tokenizer loaded from GGUF metadata. Implementations are immutable and thread-safe.
/// Encode/decode follow llama.cpp's <c>llama_tokenize</c> / <c>llama_detokenize</c> exactly.
/// </summary>
public interface ITokenizer
{
    /// <summary><c>tokenizer.ggml.model</c> family: SentencePiece-style (<c>llama</c>) or byte-level BPE (<c>gpt2</c>).</summary>
    TokenizerModel Model { get; }

    /// <summary>The pre-tokenizer in effect, as named by <see cref="PreTokenizers"/>.</summary>
    string PreTokenizer { get; }

    int VocabSize { get; }

    SpecialTokenIds Special { get; }

    /// <summary>Whether <c>addSpecial</c> encodes prepend BOS (<c>tokenizer.ggml.add_bos_token</c> or the model default).</summary>
    bool AddBos { get; }

    bool AddEos { get; }

    /// <summary>SPM: a space is put before text that starts the prompt or follows a special token.</summary>
    bool AddSpacePrefix { get; }

    /// <summary>Tokens that end generation (EOS, EOT, EOM and the texts llama.cpp recognizes as such).</summary>
    IReadOnlySet<int> EndOfGenerationIds { get; }

    bool IsEndOfGeneration(int id);

    TokenAttributes GetAttributes(int id);

    /// <summary>The vocabulary entry as stored (SPM pieces keep U+2581, byte-level BPE pieces keep the GPT-2 byte mapping).</summary>
    string GetTokenText(int id);

    /// <summary>The id whose vocabulary text is exactly <paramref name="text"/>, or null.</summary>
    int? FindToken(string text);

    /// <param name="addSpecial">Add BOS/EOS as the model asks.</param>
    /// <param name="parseSpecial">Turn the text of control tokens (e.g. <c>&lt;|im_start|&gt;</c>) into those tokens;
    /// user-defined tokens are always matched, as in llama.cpp.</param>
    int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false);

    void Encode(ReadOnlySpan<char> text, List<int> output, bool addSpecial = true, bool parseSpecial = false);

    /// <summary>Encodes into <paramref name="destination"/>; false (and <paramref name="written"/> = the needed length) when it is too small.</summary>
    bool TryEncode(ReadOnlySpan<char> text, Span<int> destination, out int written, bool addSpecial = true, bool parseSpecial = false);

    /// <param name="removeSpecial">Drop a leading BOS / trailing EOS the model would have added.</param>
    /// <param name="renderSpecial">Write the text of control/unknown tokens instead of dropping them.</param>
    string Decode(ReadOnlySpan<int> ids, bool removeSpecial = false, bool renderSpecial = false);

    /// <summary>The bytes a token stands for (may be part of a UTF-8 character); empty for hidden special tokens.</summary>
    ReadOnlySpan<byte> TokenToPiece(int id, bool renderSpecial = true);

    /// <summary>A decoder for streamed output that never returns half a UTF-8 character.</summary>
    StreamingDetokenizer CreateStreamingDetokenizer(bool renderSpecial = false, bool atStartOfText = false);
}

public enum TokenizerModel
{
    /// <summary>SentencePiece BPE with byte fallback (<c>tokenizer.ggml.model = llama</c>).</summary>
    Spm,

    /// <summary>Byte-level BPE (<c>tokenizer.ggml.model = gpt2</c>).</summary>
    Bpe,
}

/// <summary>llama.cpp's <c>llama_token_attr</c> bits.</summary>
[Flags]
public enum TokenAttributes
{
    Undefined = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
    Normalized = 1 << 6,
    LStrip = 1 << 7,
    RStrip = 1 << 8,
    SingleWord = 1 << 9,
}

/// <summary>Special token ids; null when the vocabulary has none.</summary>
public sealed record SpecialTokenIds(
    int? Bos,
    int? Eos,
    int? Eot,
    int? Eom,
    int? Unknown,
    int? Separator,
    int? Padding,
    int? Mask,
    int? Newline,
    int? FimPrefix,
    int? FimSuffix,
    int? FimMiddle,
    int? FimPad,
    int? FimRepo,
    int? FimSeparator);
