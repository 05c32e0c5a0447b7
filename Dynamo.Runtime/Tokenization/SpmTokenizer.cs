using System.Collections.Concurrent;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// SentencePiece-style BPE (llama.cpp's llm_tokenizer_spm): spaces become U+2581, characters are merged pairwise
/// by highest vocabulary score, and whatever is left that is not a token falls back to <c>&lt;0xXX&gt;</c> byte tokens.
/// </summary>
internal sealed class SpmTokenizer : TokenizerBase
{
    private static readonly byte[] s_escapedSpace = [0xE2, 0x96, 0x81]; // U+2581
    private static readonly int[] s_utf8Length = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];

    // Segments longer than this are rarely repeated; caching them would only churn memory.
    private const int MaxCachedSegmentBytes = 64;
    private const int MaxCacheEntries = 1 << 17;

    private readonly int[] _byteTokens = new int[256];
    private readonly bool _splitAtSpaces;
    private readonly ConcurrentDictionary<byte[], int[]> _cache = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], int[]>.AlternateLookup<ReadOnlySpan<byte>> _cacheLookup;
    private int _cacheCount;

    public SpmTokenizer(Vocabulary vocab)
        : base(vocab, TokenizerModel.Spm, PreTokenizers.Default, cleanSpaces: false)
    {
        Span<byte> hex = stackalloc byte[6];
        for (var b = 0; b < 256; b++)
        {
            System.Text.Encoding.ASCII.GetBytes($"<0x{b:X2}>", hex);
            var id = vocab.Find(hex);
            _byteTokens[b] = id >= 0 ? id : vocab.Find([(byte)b]);
        }

        vocab.SetNewline(_byteTokens['\n'] >= 0 ? _byteTokens['\n'] : vocab.Special.Padding);
        _splitAtSpaces = !HasSpaceAfterOtherCharacter(vocab);
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    protected override byte[] NormalPiece(ReadOnlySpan<byte> text)
    {
        var result = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i..].StartsWith(s_escapedSpace))
            {
                result.Add((byte)' ');
                i += 2;
            }
            else
            {
                result.Add(text[i]);
            }
        }

        return [.. result];
    }

    protected override void EncodeText(ReadOnlySpan<byte> raw, bool previousWasSpecial, List<int> output)
    {
        var s = EncodeScratch.Current;
        var prefix = Vocab.AddSpacePrefix && previousWasSpecial;
        s.EnsureBytes((raw.Length + 1) * 3);
        var text = s.Bytes;
        var length = 0;
        if (prefix)
        {
            s_escapedSpace.CopyTo(text, 0);
            length = 3;
        }

        foreach (var b in raw)
        {
            if (b == (byte)' ')
            {
                text[length++] = 0xE2;
                text[length++] = 0x96;
                text[length++] = 0x81;
            }
            else
            {
                text[length++] = b;
            }
        }

        if (!_splitAtSpaces)
        {
            Tokenize(s, text.AsSpan(0, length), output);
            return;
        }

        // No token has U+2581 after another character, so no merge can cross the start of a "▁word": each such
        // segment tokenizes on its own exactly as inside the whole text, and repeated segments come from the cache.
        var segmentStart = 0;
        for (var i = 1; i <= length; i++)
        {
            if (i == length || (IsEscapedSpaceAt(text, i, length) && !IsEscapedSpaceAt(text, i - 3, length)))
            {
                EncodeSegment(s, text.AsSpan(segmentStart, i - segmentStart), output);
                segmentStart = i;
            }
        }
    }

    private static bool IsEscapedSpaceAt(ReadOnlySpan<byte> text, int i, int length) =>
        i >= 0 && i + 3 <= length && text.Slice(i, 3).SequenceEqual(s_escapedSpace);

    private static bool HasSpaceAfterOtherCharacter(Vocabulary vocab)
    {
        for (var id = 0; id < vocab.Size; id++)
        {
            var text = vocab.Text(id);
            for (var i = 1; i + 3 <= text.Length; i++)
            {
                if (IsEscapedSpaceAt(text, i, text.Length) && !IsEscapedSpaceAt(text, i - 3, text.Length))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void EncodeSegment(EncodeScratch s, ReadOnlySpan<byte> segment, List<int> output)
    {
        if (_cacheLookup.TryGetValue(segment, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        var before = output.Count;
        Tokenize(s, segment, output);
        if (segment.Length <= MaxCachedSegmentBytes)
        {
            if (Interlocked.Increment(ref _cacheCount) > MaxCacheEntries)
            {
                _cache.Clear();
                Interlocked.Exchange(ref _cacheCount, 0);
            }

            _cacheLookup.TryAdd(segment, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output)[before..].ToArray());
        }
    }

    private void Tokenize(EncodeScratch s, ReadOnlySpan<byte> text, List<int> output)
    {
        if (text.IsEmpty)
        {
            return;
        }

        s.EnsureSymbols(text.Length);
        var start = s.SymStart;
        var len = s.SymLength;
        var prev = s.SymPrev;
        var next = s.SymNext;
        var count = 0;
        for (var offset = 0; offset < text.Length; count++)
        {
            var n = Math.Min(s_utf8Length[text[offset] >> 4], text.Length - offset);
            start[count] = offset;
            len[count] = n;
            prev[count] = count - 1;
            offset += n;
            next[count] = offset == text.Length ? -1 : count + 1;
        }

        var queue = s.Queue;
        queue.Clear();
        for (var i = 1; i < count; i++)
        {
            TryAddBigram(s, text, i - 1, i);
        }

        while (queue.Count > 0)
        {
            var (key, right, size) = queue.Pop();
            var left = (int)(uint)key;
            if (len[left] == 0 || len[right] == 0 || len[left] + len[right] != size)
            {
                continue; // one side already merged elsewhere
            }

            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }

            TryAddBigram(s, text, prev[left], left);
            TryAddBigram(s, text, left, next[left]);
        }

        for (var i = 0; i != -1; i = next[i])
        {
            var piece = text.Slice(start[i], len[i]);
            var id = Vocab.Find(piece);
            if (id >= 0)
            {
                output.Add(id);
                continue;
            }

            // Merges only ever form vocabulary tokens, so a symbol that is not one is a single character the
            // vocabulary lacks (llama.cpp's resegment ends in the same byte fallback).
            foreach (var b in piece)
            {
                output.Add(_byteTokens[b] >= 0
                    ? _byteTokens[b]
                    : throw new InvalidOperationException($"The vocabulary has no byte-fallback token for byte 0x{b:X2}."));
            }
        }
    }

    private void TryAddBigram(EncodeScratch s, ReadOnlySpan<byte> text, int left, int right)
    {
        if (left < 0 || right < 0)
        {
            return;
        }

        var size = s.SymLength[left] + s.SymLength[right];
        var id = Vocab.Find(text.Slice(s.SymStart[left], size));
        if (id >= 0)
        {
            s.Queue.Push(((ulong)DescendingKey(Vocab.Scores[id]) << 32) | (uint)left, right, size);
        }
    }

    // Maps a float so that higher scores give smaller unsigned keys (the heap pops the smallest key first).
    private static uint DescendingKey(float score)
    {
        var bits = (uint)BitConverter.SingleToInt32Bits(score);
        var ascending = (bits & 0x80000000) != 0 ? ~bits : bits | 0x80000000;
        return ~ascending;
    }
}
