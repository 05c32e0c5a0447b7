using System.Text;
using Dynamo.Runtime.Gguf;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// Token texts, scores, attributes and special ids read from GGUF metadata, with llama.cpp's load-time fix-ups
/// (default special ids per model, EOG detection by text, "unused" control tokens) applied in the same order.
/// </summary>
internal sealed partial class Vocabulary
{
    private const string Prefix = "tokenizer.ggml.";

    private Vocabulary(Utf8TokenIndex index, float[] scores, TokenAttributes[] attributes)
    {
        Index = index;
        Scores = scores;
        Attributes = attributes;
        Size = index.Count;
    }

    public Utf8TokenIndex Index { get; }

    public int Size { get; }

    public float[] Scores { get; }

    public TokenAttributes[] Attributes { get; }

    public SpecialTokenIds Special { get; private set; } = null!;

    public HashSet<int> EndOfGeneration { get; } = [];

    public bool AddBos { get; private set; }

    public bool AddEos { get; private set; }

    public bool AddSpacePrefix { get; private set; }

    /// <summary>Control, user-defined and unknown tokens, longest text first: the order special text is matched in.</summary>
    public int[] SpecialTokensByLength { get; private set; } = [];

    public ReadOnlySpan<byte> Text(int id) => Index.GetBytes(id);

    /// <summary>llama.cpp's text_to_token: the id of exactly this text, or -1.</summary>
    public int Find(ReadOnlySpan<byte> text)
    {
        var id = Index.Find(text);
        return id < Size ? id : -1;
    }

    public static Vocabulary Load(GgufReader gguf, TokenizerModel model, BpeVocabularyOptions bpe)
    {
        var tokens = gguf.TryGetStringArray(Prefix + "tokens", out var t)
            ? t
            : throw new InvalidDataException("GGUF file has no tokenizer vocabulary (tokenizer.ggml.tokens).");
        var n = tokens.Count;
        var index = new Utf8TokenIndex();
        for (var i = 0; i < n; i++)
        {
            var text = tokens.GetUtf8(i);
            if (text.IsEmpty)
            {
                // llama.cpp renames empty entries so every id stays addressable.
                text = Encoding.UTF8.GetBytes($"[EMPTY_{i}]");
            }

            var (id, added) = index.Add(text);
            if (!added)
            {
                throw new InvalidDataException($"Duplicate token in vocabulary: '{Encoding.UTF8.GetString(text)}' has ids {id} and {i}.");
            }
        }

        var vocab = new Vocabulary(index, ReadScores(gguf, n), ReadAttributes(gguf, n));
        vocab.ConfigureSpecials(gguf, model, bpe);
        return vocab;
    }

    private static float[] ReadScores(GgufReader gguf, int n)
    {
        var scores = new float[n];
        if (!gguf.TryGetValue(Prefix + "scores", out var value))
        {
            return scores;
        }

        switch (value.Value)
        {
            case float[] f when f.Length >= n:
                Array.Copy(f, scores, n);
                break;
            case int[] i when i.Length >= n:
                for (var k = 0; k < n; k++)
                {
                    scores[k] = i[k];
                }

                break;
            default:
                throw new InvalidDataException($"tokenizer.ggml.scores must be a Float32 or Int32 array of at least {n} entries, got {value}.");
        }

        return scores;
    }

    private static TokenAttributes[] ReadAttributes(GgufReader gguf, int n)
    {
        var attributes = new TokenAttributes[n];
        if (!gguf.TryGetValue(Prefix + "token_type", out var value))
        {
            Array.Fill(attributes, TokenAttributes.Normal);
            return attributes;
        }

        if (value.Value is not int[] types || types.Length < n)
        {
            throw new InvalidDataException($"tokenizer.ggml.token_type must be an Int32 array of at least {n} entries, got {value}.");
        }

        for (var i = 0; i < n; i++)
        {
            attributes[i] = types[i] switch
            {
                1 => TokenAttributes.Normal,
                2 => TokenAttributes.Unknown,
                3 => TokenAttributes.Control,
                4 => TokenAttributes.UserDefined,
                5 => TokenAttributes.Unused,
                6 => TokenAttributes.Byte,
                _ => TokenAttributes.Undefined,
            };
        }

        return attributes;
    }
}
