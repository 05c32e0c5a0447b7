using System.Text;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// Turns a stream of token ids into text without ever returning half a UTF-8 character: byte-fallback tokens
/// (<c>&lt;0xE6&gt;</c>) and byte-level BPE tokens can end inside a character, so up to three bytes are held back
/// until the character completes. One instance per stream; not thread-safe.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly ITokenizer _tokenizer;
    private readonly bool _renderSpecial;
    private readonly bool _atStartOfText;
    private byte[] _pending = new byte[64];
    private int _pendingCount;
    private bool _first = true;

    /// <param name="tokenizer">The tokenizer whose pieces are decoded.</param>
    /// <param name="renderSpecial">Write the text of control tokens instead of dropping them.</param>
    /// <param name="atStartOfText">The stream starts a text (not a continuation after a prompt): for SPM vocabularies
    /// with <c>add_space_prefix</c>, the first token's leading space is dropped, as llama_detokenize does.</param>
    public StreamingDetokenizer(ITokenizer tokenizer, bool renderSpecial = false, bool atStartOfText = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _renderSpecial = renderSpecial;
        _atStartOfText = atStartOfText;
    }

    /// <summary>Bytes held back because they start a character that is not complete yet.</summary>
    public int PendingByteCount => _pendingCount;

    /// <summary>Adds one token; returns the text that is now complete (often empty while a character is split).</summary>
    public string Add(int tokenId)
    {
        var piece = _tokenizer.TokenToPiece(tokenId, _renderSpecial);
        if (_first)
        {
            _first = false;
            if (_atStartOfText && _tokenizer.AddSpacePrefix && piece.Length > 0 && piece[0] == (byte)' ')
            {
                piece = piece[1..];
            }
        }

        if (_pendingCount + piece.Length > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingCount + piece.Length));
        }

        piece.CopyTo(_pending.AsSpan(_pendingCount));
        _pendingCount += piece.Length;

        var complete = CompletePrefixLength(_pending.AsSpan(0, _pendingCount));
        if (complete == 0)
        {
            return string.Empty;
        }

        var text = Encoding.UTF8.GetString(_pending, 0, complete);
        _pending.AsSpan(complete, _pendingCount - complete).CopyTo(_pending);
        _pendingCount -= complete;
        return text;
    }

    /// <summary>Ends the stream: bytes of a character that never completed come out as U+FFFD.</summary>
    public string Flush()
    {
        var text = _pendingCount == 0 ? string.Empty : Encoding.UTF8.GetString(_pending, 0, _pendingCount);
        Reset();
        return text;
    }

    public void Reset()
    {
        _pendingCount = 0;
        _first = true;
    }

    /// <summary>Length of the longest prefix that does not end inside a UTF-8 sequence that could still complete.</summary>
    internal static int CompletePrefixLength(ReadOnlySpan<byte> bytes)
    {
        // Walk back over at most three continuation bytes to the byte that starts the last sequence.
        var i = bytes.Length - 1;
        var continuation = 0;
        while (i >= 0 && continuation < 3 && (bytes[i] & 0xC0) == 0x80)
        {
            i--;
            continuation++;
        }

        if (i < 0)
        {
            return bytes.Length; // only stray continuation bytes: nothing can complete them
        }

        var lead = bytes[i];
        var expected = lead switch
        {
            < 0x80 => 1,
            >= 0xC2 and <= 0xDF => 2,
            >= 0xE0 and <= 0xEF => 3,
            >= 0xF0 and <= 0xF4 => 4,
            _ => 1, // invalid lead byte: it will never complete, emit it (as U+FFFD)
        };

        return continuation + 1 < expected ? i : bytes.Length;
    }
}
