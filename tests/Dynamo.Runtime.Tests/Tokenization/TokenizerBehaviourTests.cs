using Dynamo.Runtime.Tokenization;

namespace Dynamo.Runtime.Tests.Tokenization;

public sealed class TokenizerBehaviourTests
{
    [Fact]
    public void FromGguf_Fixtures_PickModelAndPreTokenizer()
    {
        Assert.Equal((TokenizerModel.Spm, PreTokenizers.Default), Describe("llama-spm"));
        Assert.Equal((TokenizerModel.Bpe, PreTokenizers.Gpt2), Describe("gpt-2"));
        Assert.Equal((TokenizerModel.Bpe, PreTokenizers.Llama3), Describe("llama-bpe"));
        Assert.Equal((TokenizerModel.Bpe, PreTokenizers.Qwen2), Describe("qwen2"));

        static (TokenizerModel, string) Describe(string name) =>
            (TokenizerFixtures.Load(name).Model, TokenizerFixtures.Load(name).PreTokenizer);
    }

    [Fact]
    public void Special_SpmFixture_HasLlamaDefaults()
    {
        var spm = TokenizerFixtures.Load("llama-spm");

        Assert.Equal(32000, spm.VocabSize);
        Assert.Equal(1, spm.Special.Bos);
        Assert.Equal(2, spm.Special.Eos);
        Assert.Equal(0, spm.Special.Unknown);
        Assert.Equal(13, spm.Special.Newline);
        Assert.True(spm.AddBos);
        Assert.True(spm.AddSpacePrefix);
        Assert.True(spm.IsEndOfGeneration(2));
        Assert.Equal(TokenAttributes.Control, spm.GetAttributes(1));
        Assert.Equal(TokenAttributes.Byte, spm.GetAttributes(13));
    }

    [Fact]
    public void Special_Llama3Fixture_AddsBosAndKnowsEndOfTurn()
    {
        var llama3 = TokenizerFixtures.Load("llama-bpe");

        Assert.Equal(128000, llama3.Special.Bos);
        Assert.True(llama3.AddBos);
        Assert.False(llama3.AddSpacePrefix);
        Assert.Equal(128009, llama3.FindToken("<|eot_id|>"));
        Assert.True(llama3.IsEndOfGeneration(128009));
        Assert.Equal(198, llama3.Special.Newline);
    }

    [Theory]
    [InlineData("llama-spm", new[] { 1, 15043, 3186 })]
    [InlineData("llama-bpe", new[] { 128000, 9906, 1917 })]
    [InlineData("gpt-2", new[] { 15496, 995 })]
    public void Encode_AddSpecial_AddsBosWhereTheModelDoes(string vocab, int[] expected)
    {
        Assert.Equal(expected, TokenizerFixtures.Load(vocab).Encode("Hello world", addSpecial: true));
    }

    [Fact]
    public void Encode_ParseSpecialLlama3_TurnsControlTextIntoTokens()
    {
        var llama3 = TokenizerFixtures.Load("llama-bpe");
        const string prompt = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";

        var parsed = llama3.Encode(prompt, addSpecial: false, parseSpecial: true);
        var literal = llama3.Encode(prompt, addSpecial: false, parseSpecial: false);

        Assert.Equal(llama3.FindToken("<|start_header_id|>"), parsed[0]);
        Assert.Equal(128009, parsed[^1]);
        Assert.Equal(llama3.Encode("user", false)[0], parsed[1]);
        Assert.DoesNotContain(128009, literal);
        Assert.Equal(prompt, llama3.Decode(parsed, renderSpecial: true));
        Assert.Equal("user\n\nHi", llama3.Decode(parsed, renderSpecial: false));
    }

    [Fact]
    public void Encode_ParseSpecialSpm_PrefixesSpaceAfterSpecialToken()
    {
        var spm = TokenizerFixtures.Load("llama-spm");

        Assert.Equal([1, 15043, 2], spm.Encode("<s>Hello</s>", addSpecial: false, parseSpecial: true));
        Assert.Equal(spm.Encode(" <s>Hello", false), spm.Encode(" <s>Hello", false, parseSpecial: false));
        Assert.DoesNotContain(1, spm.Encode("<s>Hello", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void Encode_ParseSpecialQwen2_SplitsChatMarkup()
    {
        var qwen = TokenizerFixtures.Load("qwen2");
        var start = qwen.FindToken("<|im_start|>")!.Value;
        var end = qwen.FindToken("<|im_end|>")!.Value;

        var ids = qwen.Encode("<|im_start|>user\nHello<|im_end|>", addSpecial: false, parseSpecial: true);

        Assert.Equal([start, .. qwen.Encode("user\nHello", false), end], ids);
        Assert.True(qwen.IsEndOfGeneration(end));
    }

    public static TheoryData<string, int> ExactRoundTripCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in (string[])["llama-spm", "qwen2"])
        {
            for (var i = 0; i < TokenizerFixtures.Cases(name).Count; i++)
            {
                data.Add(name, i);
            }
        }

        return data;
    }

    // SPM (space prefix removed on decode) and Qwen2 (no clean_spaces) reproduce any input exactly.
    [Theory]
    [MemberData(nameof(ExactRoundTripCases))]
    public void Decode_EncodedFixtureInput_ReturnsInput(string vocab, int caseIndex)
    {
        var tokenizer = TokenizerFixtures.Load(vocab);
        var text = TokenizerFixtures.Cases(vocab)[caseIndex].Text;

        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: false)));
    }

    [Theory]
    [InlineData("gpt-2")]
    [InlineData("llama-bpe")]
    public void Decode_CleanSpacesVocabulary_RoundTripsTextWithoutSpaceBeforePunctuation(string vocab)
    {
        var tokenizer = TokenizerFixtures.Load(vocab);
        var checkedCases = 0;
        foreach (var (text, _) in TokenizerFixtures.Cases(vocab))
        {
            if (text.Contains(" ?") || text.Contains(" !") || text.Contains(" .") || text.Contains(" ,") || text.Contains(" '"))
            {
                continue; // llama.cpp's clean_spaces rewrites these on purpose
            }

            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: false)));
            checkedCases++;
        }

        Assert.True(checkedCases > 35);
        Assert.Equal("Hello, world! It's", tokenizer.Decode(tokenizer.Encode("Hello , world ! It 's", false)));
    }

    [Fact]
    public void Decode_SpmWithBos_KeepsLeadingSpaceLikeLlamaCpp()
    {
        var spm = TokenizerFixtures.Load("llama-spm");

        Assert.Equal("Hello", spm.Decode([15043]));
        Assert.Equal(" Hello", spm.Decode([1, 15043]));
        Assert.Equal(" Hello", spm.Decode([1, 15043], removeSpecial: true));
        Assert.Equal("<s> Hello</s>", spm.Decode([1, 15043, 2], renderSpecial: true));
    }

    [Fact]
    public void TokenToPiece_ByteAndNormalTokens_GiveRawBytes()
    {
        var spm = TokenizerFixtures.Load("llama-spm");
        var gpt2 = TokenizerFixtures.Load("gpt-2");

        Assert.Equal([0xF0], spm.TokenToPiece(243).ToArray());
        Assert.Equal(" Hello"u8.ToArray(), spm.TokenToPiece(15043).ToArray());
        Assert.Equal(" world"u8.ToArray(), gpt2.TokenToPiece(995).ToArray());
        Assert.Empty(spm.TokenToPiece(1, renderSpecial: false).ToArray());
        Assert.Equal("▁Hello", spm.GetTokenText(15043));
    }

    [Fact]
    public void TryEncode_DestinationTooSmall_ReportsNeededLength()
    {
        var qwen = TokenizerFixtures.Load("qwen2");
        var expected = qwen.Encode("Hello world, again", addSpecial: false);

        Assert.False(qwen.TryEncode("Hello world, again", new int[1], out var needed, addSpecial: false));
        Assert.Equal(expected.Length, needed);
        var destination = new int[16];
        Assert.True(qwen.TryEncode("Hello world, again", destination, out var written, addSpecial: false));
        Assert.Equal(expected, destination[..written]);
    }

    [Fact]
    public void Encode_IntoList_Appends()
    {
        var gpt2 = TokenizerFixtures.Load("gpt-2");
        var list = new List<int> { -1 };

        gpt2.Encode("Hello world", list, addSpecial: false);

        Assert.Equal([-1, 15496, 995], list);
    }

    [Fact]
    public void Encode_ConcurrentCallers_GetIdenticalResults()
    {
        var llama3 = TokenizerFixtures.Load("llama-bpe");
        var inputs = TokenizerFixtures.Cases("llama-bpe").Select(c => c.Text).ToArray();
        var expected = inputs.Select(t => llama3.Encode(t, false)).ToArray();

        Parallel.For(0, 64, i =>
        {
            var k = i % inputs.Length;
            Assert.Equal(expected[k], llama3.Encode(inputs[k], false));
        });
    }

    [Fact]
    public void Encode_InvalidTokenIdOnDecode_Throws()
    {
        var gpt2 = TokenizerFixtures.Load("gpt-2");

        Assert.Throws<ArgumentOutOfRangeException>(() => gpt2.Decode([50257]));
        Assert.Throws<ArgumentOutOfRangeException>(() => gpt2.Decode([-1]));
    }
}
