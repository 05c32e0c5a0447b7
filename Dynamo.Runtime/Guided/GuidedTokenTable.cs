using Dynamo.Runtime.Tokenization;

namespace Dynamo.Runtime.Guided;

/// <summary>
/// A vocabulary prepared for guided decoding: every token's bytes in a trie, plus the precomputed set of tokens
/// that are plain string content (printable, no quote or backslash, whole UTF-8 characters), which inside a free
/// JSON string are all allowed and need no walk. Control and unused tokens never appear inside JSON; the
/// end-of-generation tokens are allowed only once the value is complete. Immutable; build once per model.
/// </summary>
public sealed class GuidedTokenTable
{
    public GuidedTokenTable(IReadOnlyList<byte[]?> pieces, IEnumerable<int> endOfGenerationIds)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(endOfGenerationIds);
        VocabSize = pieces.Count;
        Pieces = [.. pieces];
        EndOfGenerationIds = [.. endOfGenerationIds.Where(id => (uint)id < (uint)VocabSize).Distinct().Order()];
        if (EndOfGenerationIds.Length == 0)
        {
            throw new ArgumentException("Guided decoding needs an end-of-generation token to end the output once the value is complete.", nameof(endOfGenerationIds));
        }

        var eog = EndOfGenerationIds.ToHashSet();
        var plain = new bool[VocabSize];
        PlainStringMask = new ulong[MaskWords];
        for (var id = 0; id < VocabSize; id++)
        {
            if (eog.Contains(id))
            {
                Pieces[id] = null;
            }
            else if (Pieces[id] is { Length: > 0 } piece && PlainCharCount(piece) is var chars and > 0)
            {
                plain[id] = true;
                PlainStringMask[id >> 6] |= 1UL << id;
                MaxPlainChars = Math.Max(MaxPlainChars, chars);
            }
        }

        Full = new TokenTrie(Pieces, _ => true);
        Special = new TokenTrie(Pieces, id => !plain[id]);
        MaxPieceLength = Pieces.Max(p => p?.Length ?? 0);
    }

    public int VocabSize { get; }

    /// <summary>ulongs in a mask: one bit per token id.</summary>
    public int MaskWords => (VocabSize + 63) >> 6;

    public int[] EndOfGenerationIds { get; }

    /// <summary>Tokens in the trie (the rest, control tokens and empty pieces, are never allowed inside a value).</summary>
    public int TextTokenCount => Full.TokenIdCount;

    internal byte[]?[] Pieces { get; }

    internal TokenTrie Full { get; }

    /// <summary>The tokens that are not plain string content: the only ones a walk from inside a free string visits.</summary>
    internal TokenTrie Special { get; }

    internal ulong[] PlainStringMask { get; }

    internal int MaxPlainChars { get; }

    internal int MaxPieceLength { get; }

    /// <summary>The tokenizer's pieces: control, unknown and unused tokens are left out, as no JSON text contains them.</summary>
    public static GuidedTokenTable FromTokenizer(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var pieces = new byte[]?[tokenizer.VocabSize];
        for (var id = 0; id < pieces.Length; id++)
        {
            var attributes = tokenizer.GetAttributes(id);
            if ((attributes & (TokenAttributes.Control | TokenAttributes.Unknown | TokenAttributes.Unused)) != 0)
            {
                continue;
            }

            var piece = tokenizer.TokenToPiece(id, renderSpecial: false);
            pieces[id] = piece.IsEmpty ? null : piece.ToArray();
        }

        var eog = tokenizer.EndOfGenerationIds.Count > 0
            ? tokenizer.EndOfGenerationIds
            : tokenizer.Special.Eos is { } eos ? new HashSet<int> { eos } : new HashSet<int>();
        return new GuidedTokenTable(pieces, eog);
    }

    /// <summary>The bytes token <paramref name="id"/> adds to the output (empty for tokens never allowed inside a value).</summary>
    public ReadOnlySpan<byte> Piece(int id) => Pieces[id];

    /// <summary>Code points of a plain-string token, or 0 when the token is not plain string content.</summary>
    private static int PlainCharCount(byte[] piece)
    {
        foreach (var b in piece)
        {
            if (b < 0x20 || b == '"' || b == '\\')
            {
                return 0;
            }
        }

        return Utf8Valid(piece, out var count) ? count : 0;
    }

    private static bool Utf8Valid(byte[] piece, out int codePoints)
    {
        codePoints = 0;
        var span = piece.AsSpan();
        while (!span.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(span, out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return false;
            }

            codePoints++;
            span = span[consumed..];
        }

        return true;
    }
}
