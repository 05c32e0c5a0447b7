using Dynamo.Runtime.Gguf;
using Dynamo.Runtime.Tests.Gguf;
using Dynamo.Runtime.Tokenization;

namespace Dynamo.Runtime.Tests.Tokenization;

/// <summary>Small hand-made vocabularies: the tokenizers must work for any vocabulary of the same kinds.</summary>
public sealed class SyntheticVocabularyTests
{
    [Fact]
    public void Bpe_UserDefinedToken_MatchedEvenWithoutParseSpecial()
    {
        var bpe = Load(BpeVocab("gpt-2"));

        Assert.Equal([(int)'x', 258, 256, 258], bpe.Encode("xab<tool>ab", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void Bpe_ControlToken_MatchedOnlyWithParseSpecial()
    {
        var bpe = Load(BpeVocab("gpt-2"));

        Assert.Equal([257], bpe.Encode("<ctl>", addSpecial: false, parseSpecial: true));
        Assert.Equal([(int)'<', (int)'c', (int)'t', (int)'l', (int)'>'], bpe.Encode("<ctl>", addSpecial: false, parseSpecial: false));
        Assert.False(bpe.AddBos);
    }

    [Fact]
    public void Bpe_DefaultPreTokenizer_SplitsDigitsInThrees()
    {
        var bpe = Load(BpeVocab("default"));

        // Stage 4 of llama.cpp's default splits "12345" into "123" + "45"; no merges apply to digits here.
        Assert.Equal(PreTokenizers.Default, bpe.PreTokenizer);
        Assert.Equal("12345".Select(c => (int)c), bpe.Encode("12345", addSpecial: false));
        Assert.Equal([(int)'x', 258], bpe.Encode("xab", addSpecial: false));
    }

    [Fact]
    public void Bpe_UnknownPreTokenizer_ThrowsNamingIt()
    {
        var e = Assert.Throws<NotSupportedException>(() => Load(BpeVocab("frobnicate-7b")));

        Assert.Contains("'tokenizer.ggml.pre = frobnicate-7b'", e.Message);
    }

    [Fact]
    public void FromGguf_UnknownModel_ThrowsNamingIt()
    {
        var bytes = new GgufTestFileBuilder().AddString("tokenizer.ggml.model", "bert").AddStringArray("tokenizer.ggml.tokens", "a").Build();

        var e = Assert.Throws<NotSupportedException>(() => Load(bytes));

        Assert.Contains("bert", e.Message);
    }

    [Fact]
    public void FromGguf_MissingMergesOrTokens_ThrowsInvalidData()
    {
        var noMerges = new GgufTestFileBuilder().AddString("tokenizer.ggml.model", "gpt2").AddStringArray("tokenizer.ggml.tokens", "a").Build();
        var noTokens = new GgufTestFileBuilder().AddString("tokenizer.ggml.model", "llama").Build();

        Assert.Contains("merges", Assert.Throws<InvalidDataException>(() => Load(noMerges)).Message);
        Assert.Contains("tokens", Assert.Throws<InvalidDataException>(() => Load(noTokens)).Message);
    }

    [Fact]
    public void Spm_MergesByScoreAndFallsBackToBytes()
    {
        var spm = Load(SpmVocab());

        Assert.Equal([264], spm.Encode("ab", addSpecial: false));
        Assert.Equal([262, 259, 3 + 0xC3, 3 + 0xA9], spm.Encode("a é", addSpecial: false));
        Assert.Equal([1, 264], spm.Encode("ab"));
        Assert.Equal("a é", spm.Decode(spm.Encode("a é", addSpecial: false)));
    }

    [Fact]
    public void Spm_AddSpacePrefixFalse_DoesNotPrefix()
    {
        var spm = Load(SpmVocab(addSpacePrefix: false));

        Assert.Equal([263], spm.Encode("ab", addSpecial: false));
    }

    [Fact]
    public void Spm_TokenWithInnerSpace_MergesAcrossWords()
    {
        // "a▁" can join a word to the next space, so the whole text must be merged as one sequence.
        var spm = Load(SpmVocab(extra: ("a▁", -0.5f)));

        Assert.Equal([259, 265, 261], spm.Encode("a b", addSpecial: false));
        Assert.Equal("a b", spm.Decode([259, 265, 261]));
    }

    private static ITokenizer Load(byte[] gguf)
    {
        using var reader = GgufReader.Read(new MemoryStream(gguf));
        return Tokenizer.FromGguf(reader);
    }

    private static byte[] BpeVocab(string pre)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => char.ConvertFromUtf32(ByteLevelEncoding.ToCodepoint((byte)b)))
            .Concat(["<tool>", "<ctl>", "ab"]).ToArray();
        var types = Enumerable.Repeat(1, 256).Concat([4, 3, 1]).ToArray();
        return new GgufTestFileBuilder()
            .AddString("tokenizer.ggml.model", "gpt2")
            .AddString("tokenizer.ggml.pre", pre)
            .AddStringArray("tokenizer.ggml.tokens", tokens)
            .Add("tokenizer.ggml.token_type", GgufValueType.Array, w => WriteInts(w, types))
            .AddStringArray("tokenizer.ggml.merges", "a b")
            .Build();
    }

    private static byte[] SpmVocab(bool addSpacePrefix = true, (string Text, float Score)? extra = null)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        tokens.AddRange(Enumerable.Range(0, 256).Select(b => $"<0x{b:X2}>"));
        tokens.AddRange(["▁", "a", "b", "▁a", "ab", "▁ab"]);
        var types = new List<int> { 2, 3, 3 };
        types.AddRange(Enumerable.Repeat(6, 256));
        types.AddRange(Enumerable.Repeat(1, 6));
        var scores = new List<float> { 0, 0, 0 };
        scores.AddRange(Enumerable.Repeat(0f, 256));
        scores.AddRange([-1f, -2f, -3f, -4f, -1.5f, -1f]);
        if (extra is { } e)
        {
            tokens.Add(e.Text);
            types.Add(1);
            scores.Add(e.Score);
        }

        return new GgufTestFileBuilder()
            .AddString("tokenizer.ggml.model", "llama")
            .AddStringArray("tokenizer.ggml.tokens", [.. tokens])
            .Add("tokenizer.ggml.token_type", GgufValueType.Array, w => WriteInts(w, [.. types]))
            .Add("tokenizer.ggml.scores", GgufValueType.Array, w =>
            {
                w.Write((uint)GgufValueType.Float32);
                w.Write((ulong)scores.Count);
                scores.ForEach(w.Write);
            })
            .Add("tokenizer.ggml.add_space_prefix", GgufValueType.Bool, w => w.Write(addSpacePrefix))
            .Build();
    }

    private static void WriteInts(BinaryWriter w, int[] values)
    {
        w.Write((uint)GgufValueType.Int32);
        w.Write((ulong)values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }
}
