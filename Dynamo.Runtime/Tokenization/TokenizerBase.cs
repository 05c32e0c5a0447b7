using System.Buffers;
using System.Text;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// What SPM and BPE share: UTF-8 conversion, special-token partitioning, BOS/EOS, pieces and detokenization.
/// Subclasses only turn a run of raw text into tokens.
/// </summary>
internal abstract class TokenizerBase : ITokenizer
{
    private readonly byte[][] _pieces;

    protected TokenizerBase(Vocabulary vocab, TokenizerModel model, string preTokenizer, bool cleanSpaces)
    {
        Vocab = vocab;
        Model = model;
        PreTokenizer = preTokenizer;
        CleanSpaces = cleanSpaces;
        _pieces = new byte[vocab.Size][];
        for (var id = 0; id < vocab.Size; id++)
        {
            _pieces[id] = BuildPiece(id);
        }
    }

    public TokenizerModel Model { get; }

    public string PreTokenizer { get; }

    public int VocabSize => Vocab.Size;

    public SpecialTokenIds Special => Vocab.Special;

    public bool AddBos => Vocab.AddBos;

    public bool AddEos => Vocab.AddEos;

    public bool AddSpacePrefix => Vocab.AddSpacePrefix;

    public IReadOnlySet<int> EndOfGenerationIds => Vocab.EndOfGeneration;

    internal Vocabulary Vocab { get; }

    /// <summary>llama.cpp's clean_spaces: detokenization drops the space before <c>. , ! ?</c> and some contractions.</summary>
    internal bool CleanSpaces { get; }

    public bool IsEndOfGeneration(int id) => Vocab.EndOfGeneration.Contains(id);

    public TokenAttributes GetAttributes(int id) => Vocab.Attributes[CheckId(id)];

    public string GetTokenText(int id) => Encoding.UTF8.GetString(Vocab.Text(CheckId(id)));

    public int? FindToken(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var id = Vocab.Find(Encoding.UTF8.GetBytes(text));
        return id >= 0 ? id : null;
    }

    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 4);
        Encode(text.AsSpan(), output, addSpecial, parseSpecial);
        return [.. output];
    }

    public bool TryEncode(ReadOnlySpan<char> text, Span<int> destination, out int written, bool addSpecial = true, bool parseSpecial = false)
    {
        var output = EncodeScratch.Current.Output;
        output.Clear();
        Encode(text, output, addSpecial, parseSpecial);
        written = output.Count;
        if (output.Count > destination.Length)
        {
            return false;
        }

        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output).CopyTo(destination);
        return true;
    }

    public void Encode(ReadOnlySpan<char> text, List<int> output, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        var scratch = EncodeScratch.Current;
        var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, utf8);
            var bytes = utf8.AsSpan(0, length);
            SpecialTokenPartitioner.Partition(Vocab, bytes, parseSpecial, scratch.Fragments, scratch.FragmentsSwap);

            if (addSpecial && Vocab.AddBos)
            {
                output.Add(Vocab.Special.Bos!.Value);
            }

            var previousWasSpecial = true; // the start of the prompt counts as "after a special token"
            foreach (var fragment in scratch.Fragments)
            {
                if (fragment.IsText)
                {
                    EncodeText(bytes.Slice(fragment.Start, fragment.Length), previousWasSpecial, output);
                    previousWasSpecial = false;
                }
                else
                {
                    output.Add(fragment.Token);
                    previousWasSpecial = true;
                }
            }

            if (addSpecial && Vocab.AddEos)
            {
                output.Add(Vocab.Special.Eos!.Value);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    public ReadOnlySpan<byte> TokenToPiece(int id, bool renderSpecial = true)
    {
        CheckId(id);
        if (!renderSpecial && (Vocab.Attributes[id] & (TokenAttributes.Unknown | TokenAttributes.Control)) != 0)
        {
            return [];
        }

        return _pieces[id];
    }

    public string Decode(ReadOnlySpan<int> ids, bool removeSpecial = false, bool renderSpecial = false)
    {
        var buffer = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        var removeSpace = Vocab.AddSpacePrefix;
        if (removeSpecial && Vocab.AddBos && ids.Length > 0 && ids[0] == Vocab.Special.Bos)
        {
            removeSpace = false;
            ids = ids[1..];
        }

        if (removeSpecial && Vocab.AddEos && ids.Length > 0 && ids[^1] == Vocab.Special.Eos)
        {
            ids = ids[..^1];
        }

        foreach (var id in ids)
        {
            var piece = TokenToPiece(id, renderSpecial);
            if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ')
            {
                piece = piece[1..];
            }

            removeSpace = false;
            buffer.Write(piece);
        }

        if (!CleanSpaces)
        {
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        var text = buffer.WrittenSpan.ToArray();
        var total = Detokenization.CleanUpSpaces(text);
        return Encoding.UTF8.GetString(text, 0, total);
    }

    public StreamingDetokenizer CreateStreamingDetokenizer(bool renderSpecial = false, bool atStartOfText = false) => new(this, renderSpecial, atStartOfText);

    /// <summary>Appends the tokens of one run of raw text (no special tokens inside).</summary>
    protected abstract void EncodeText(ReadOnlySpan<byte> text, bool previousWasSpecial, List<int> output);

    /// <summary>The bytes of a NORMAL token (SPM: U+2581 → space; BPE: undo the GPT-2 byte mapping).</summary>
    protected abstract byte[] NormalPiece(ReadOnlySpan<byte> text);

    protected int CheckId(int id) =>
        (uint)id < (uint)Vocab.Size ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id is outside the vocabulary of {Vocab.Size} tokens.");

    private byte[] BuildPiece(int id)
    {
        var attr = Vocab.Attributes[id];
        var text = Vocab.Text(id);
        if ((attr & (TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined)) != 0)
        {
            return text.ToArray();
        }

        if ((attr & TokenAttributes.Normal) != 0)
        {
            return NormalPiece(text);
        }

        if ((attr & TokenAttributes.Byte) != 0)
        {
            return [ParseByteToken(text, id)];
        }

        return []; // UNUSED / UNDEFINED tokens render as nothing, as in llama.cpp
    }

    private static byte ParseByteToken(ReadOnlySpan<byte> text, int id)
    {
        // "<0xXX>": llama.cpp reads the two hex digits at offset 3.
        if (text.Length >= 5 && byte.TryParse(Encoding.ASCII.GetString(text.Slice(3, 2)), System.Globalization.NumberStyles.HexNumber, null, out var value))
        {
            return value;
        }

        throw new InvalidDataException($"Token {id} '{Encoding.UTF8.GetString(text)}' has type BYTE but is not of the form <0xXX>.");
    }
}
