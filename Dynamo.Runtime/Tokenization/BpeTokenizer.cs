using System.Collections.Concurrent;
using System.Text;
using Dynamo.Runtime.Gguf;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// Byte-level BPE (llama.cpp's llm_tokenizer_bpe): pre-tokenize into words, map each word's bytes through GPT-2's
/// byte-to-unicode table and apply <c>tokenizer.ggml.merges</c> lowest rank first. Symbols carry ids rather than
/// strings: every merge operand and result has an id (real, or virtual past the vocabulary when a merge names a
/// string the vocabulary lacks), so a merge is one dictionary probe on a pair of ints.
/// </summary>
internal sealed class BpeTokenizer : TokenizerBase
{
    // Words longer than this are rarely repeated; caching them would only churn memory.
    private const int MaxCachedWordBytes = 48;
    private const int MaxCacheEntries = 1 << 17;

    private readonly PreTokenizerKind _kind;
    private readonly bool _ignoreMerges;
    private readonly Dictionary<ulong, ulong> _merges; // (left id, right id) → (rank, result id)
    private readonly int[] _byteSymbol = new int[256];
    private readonly int[][] _byteFallback = new int[256][];
    private readonly byte[][] _byteEncoded = new byte[256][];
    private readonly ConcurrentDictionary<byte[], int[]> _cache = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], int[]>.AlternateLookup<ReadOnlySpan<byte>> _cacheLookup;
    private int _cacheCount;

    public BpeTokenizer(Vocabulary vocab, GgufReader gguf, string preName, PreTokenizerKind kind, BpeVocabularyOptions options)
        : base(vocab, TokenizerModel.Bpe, preName, options.CleanSpaces)
    {
        _kind = kind;
        _ignoreMerges = options.IgnoreMerges;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<byte>>();
        var merges = gguf.TryGetStringArray("tokenizer.ggml.merges", out var m)
            ? m
            : throw new InvalidDataException("GGUF file has no BPE merges (tokenizer.ggml.merges), which a gpt2 tokenizer needs.");
        _merges = LoadMerges(vocab.Index, merges);

        for (var b = 0; b < 256; b++)
        {
            _byteEncoded[b] = ByteLevelEncoding.EncodedUtf8((byte)b);
            _byteSymbol[b] = vocab.Index.Find(_byteEncoded[b]);
            var fallback = new List<int>(2);
            foreach (var e in _byteEncoded[b])
            {
                if (vocab.Find([e]) is var id and >= 0)
                {
                    fallback.Add(id);
                }
            }

            _byteFallback[b] = [.. fallback];
        }

        var newline = Encode("\n", addSpecial: false);
        vocab.SetNewline(newline.Length > 0 ? newline[0] : vocab.Special.Padding);
    }

    protected override byte[] NormalPiece(ReadOnlySpan<byte> text)
    {
        var result = new List<byte>(text.Length);
        var utf8 = text;
        while (!utf8.IsEmpty)
        {
            _ = Rune.DecodeFromUtf8(utf8, out var rune, out var consumed);
            if (ByteLevelEncoding.TryToByte(rune.Value, out var b))
            {
                result.Add(b);
            }
            else
            {
                // llama.cpp's llama_decode_text writes this marker for characters outside the byte mapping.
                result.AddRange("[UNK_BYTE_0x"u8);
                foreach (var c in utf8[..consumed])
                {
                    result.AddRange(Encoding.ASCII.GetBytes(c.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
                }

                result.AddRange(text);
                result.Add((byte)']');
            }

            utf8 = utf8[consumed..];
        }

        return [.. result];
    }

    protected override void EncodeText(ReadOnlySpan<byte> text, bool previousWasSpecial, List<int> output)
    {
        var s = EncodeScratch.Current;
        var count = PreTokenization.Decode(text, s);
        PreTokenization.Split(_kind, s, count);
        var start = 0;
        foreach (var end in s.Splits)
        {
            EncodeWord(s, text[s.ByteOffsets[start]..s.ByteOffsets[end]], output);
            start = end;
        }
    }

    private void EncodeWord(EncodeScratch s, ReadOnlySpan<byte> word, List<int> output)
    {
        if (_cacheLookup.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        var before = output.Count;
        if (!_ignoreMerges || !TryWholeWord(s, word, output))
        {
            Merge(s, word, output);
        }

        if (word.Length <= MaxCachedWordBytes)
        {
            if (Interlocked.Increment(ref _cacheCount) > MaxCacheEntries)
            {
                _cache.Clear();
                Interlocked.Exchange(ref _cacheCount, 0);
            }

            _cacheLookup.TryAdd(word, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output)[before..].ToArray());
        }
    }

    // ignore_merges (Llama 3): a word that is itself a vocabulary token is taken whole.
    private bool TryWholeWord(EncodeScratch s, ReadOnlySpan<byte> word, List<int> output)
    {
        s.EnsureBytes(word.Length * 2);
        var length = 0;
        foreach (var b in word)
        {
            var encoded = _byteEncoded[b];
            encoded.CopyTo(s.Bytes, length);
            length += encoded.Length;
        }

        var id = Vocab.Find(s.Bytes.AsSpan(0, length));
        if (id < 0)
        {
            return false;
        }

        output.Add(id);
        return true;
    }

    private void Merge(EncodeScratch s, ReadOnlySpan<byte> word, List<int> output)
    {
        var n = word.Length;
        s.EnsureSymbols(n);
        var len = s.SymLength;
        var prev = s.SymPrev;
        var next = s.SymNext;
        var ids = s.SymId;
        for (var i = 0; i < n; i++)
        {
            s.SymStart[i] = i;
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 == n ? -1 : i + 1;
            ids[i] = _byteSymbol[word[i]];
        }

        var queue = s.Queue;
        queue.Clear();
        for (var i = 1; i < n; i++)
        {
            AddBigram(s, i - 1, i);
        }

        while (queue.Count > 0)
        {
            var (key, right, size) = queue.Pop();
            var left = (int)(uint)key;
            if (len[left] == 0 || len[right] == 0 || len[left] + len[right] != size)
            {
                continue; // stale: one side changed since this pair was queued
            }

            _merges.TryGetValue(Pair(ids[left], ids[right]), out var merge);
            ids[left] = (int)(uint)merge;
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }

            AddBigram(s, prev[left], left);
            AddBigram(s, left, next[left]);
        }

        for (var i = 0; i != -1; i = next[i])
        {
            var id = ids[i];
            if ((uint)id < (uint)Vocab.Size)
            {
                output.Add(id);
                continue;
            }

            // Not a token: llama.cpp emits, per byte of the mapped text, the single-byte token if there is one.
            for (var k = s.SymStart[i]; k < s.SymStart[i] + len[i]; k++)
            {
                output.AddRange(_byteFallback[word[k]]);
            }
        }
    }

    private void AddBigram(EncodeScratch s, int left, int right)
    {
        if (left < 0 || right < 0)
        {
            return;
        }

        var l = s.SymId[left];
        var r = s.SymId[right];
        if (l < 0 || r < 0 || !_merges.TryGetValue(Pair(l, r), out var merge))
        {
            return;
        }

        var rank = (uint)(merge >> 32);
        s.Queue.Push(((ulong)rank << 32) | (uint)left, right, s.SymLength[left] + s.SymLength[right]);
    }

    private static ulong Pair(int left, int right) => ((ulong)(uint)left << 32) | (uint)right;

    internal static Dictionary<ulong, ulong> LoadMerges(Utf8TokenIndex index, GgufStringArray merges)
    {
        var result = new Dictionary<ulong, ulong>(merges.Count, MixedPairComparer.Instance);
        var joined = new byte[256];
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var merge = merges.GetUtf8(rank);
            // As llama.cpp: split at the first space after the first byte; no space means ("", "").
            var space = merge.Length > 1 ? merge[1..].IndexOf((byte)' ') : -1;
            var first = space >= 0 ? merge[..(space + 1)] : [];
            var second = space >= 0 ? merge[(space + 2)..] : [];
            if (joined.Length < merge.Length)
            {
                joined = new byte[merge.Length * 2];
            }

            first.CopyTo(joined);
            second.CopyTo(joined.AsSpan(first.Length));
            var left = index.Add(first).Id;
            var right = index.Add(second).Id;
            var combined = index.Add(joined.AsSpan(0, first.Length + second.Length)).Id;
            result.TryAdd(Pair(left, right), ((ulong)(uint)rank << 32) | (uint)combined);
        }

        return result;
    }

    // ulong's own hash is (low ^ high): for (left id, right id) pairs below 2^17 that folds 280k merges onto a few
    // clustered values and turns every lookup into a long chain walk. A full 64-bit mix spreads them.
    private sealed class MixedPairComparer : IEqualityComparer<ulong>
    {
        public static MixedPairComparer Instance { get; } = new();

        public bool Equals(ulong x, ulong y) => x == y;

        public int GetHashCode(ulong obj)
        {
            obj ^= obj >> 33;
            obj *= 0xFF51AFD7ED558CCDUL;
            obj ^= obj >> 33;
            return (int)obj;
        }
    }
}
