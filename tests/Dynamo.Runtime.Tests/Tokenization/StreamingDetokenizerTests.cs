using Dynamo.Runtime.Tokenization;

namespace Dynamo.Runtime.Tests.Tokenization;

public sealed class StreamingDetokenizerTests
{
    [Fact]
    public void Add_SpmEmojiAsByteFallbackTokens_HoldsBytesUntilCharacterCompletes()
    {
        var spm = TokenizerFixtures.Load("llama-spm");
        var stream = spm.CreateStreamingDetokenizer();

        Assert.Equal(string.Empty, stream.Add(243));
        Assert.Equal(string.Empty, stream.Add(162));
        Assert.Equal(string.Empty, stream.Add(169));
        Assert.Equal(3, stream.PendingByteCount);
        Assert.Equal("🦙", stream.Add(156));
        Assert.Equal(0, stream.PendingByteCount);
    }

    [Theory]
    [InlineData("llama-spm", " this is 🦙.cpp 我想在apple工作1314151天～ ✅")]
    [InlineData("qwen2", "Hello, y'all! 🦙.cpp 😁 ?我想在apple工作1314151天～")]
    [InlineData("gpt-2", "нещо на Български 🚀 (normal) 😶‍🌫️")]
    [InlineData("llama-bpe", "កាន់តែពិសេសអាចខលចេញ 🦙🦙")]
    public void Add_TokenByToken_NeverEmitsHalfCharactersAndMatchesDecode(string vocab, string text)
    {
        var tokenizer = TokenizerFixtures.Load(vocab);
        var ids = tokenizer.Encode(text, addSpecial: false);
        var stream = tokenizer.CreateStreamingDetokenizer(atStartOfText: true);
        var chunks = new List<string>();

        foreach (var id in ids)
        {
            chunks.Add(stream.Add(id));
        }

        chunks.Add(stream.Flush());

        Assert.All(chunks, c => Assert.DoesNotContain('\uFFFD', c));
        Assert.All(chunks, c => Assert.False(c.Length > 0 && char.IsLowSurrogate(c[0]), "chunk starts inside a surrogate pair"));
        Assert.Contains(string.Empty, chunks[..^1]); // at least one character was split across tokens
        Assert.Equal(text, string.Concat(chunks));
    }

    [Fact]
    public void Flush_IncompleteCharacter_EmitsReplacementCharacter()
    {
        var stream = TokenizerFixtures.Load("llama-spm").CreateStreamingDetokenizer();

        Assert.Equal(string.Empty, stream.Add(243));
        Assert.Equal("\uFFFD", stream.Flush());
        Assert.Equal(0, stream.PendingByteCount);
    }

    [Fact]
    public void Add_SpmFirstToken_DropsLeadingSpaceOnlyAtStartOfText()
    {
        var spm = TokenizerFixtures.Load("llama-spm");

        Assert.Equal("Hello", spm.CreateStreamingDetokenizer(atStartOfText: true).Add(15043));
        Assert.Equal(" Hello", spm.CreateStreamingDetokenizer(atStartOfText: false).Add(15043));
    }

    [Fact]
    public void Add_ControlToken_RenderedOnlyWhenAsked()
    {
        var llama3 = TokenizerFixtures.Load("llama-bpe");

        Assert.Equal(string.Empty, llama3.CreateStreamingDetokenizer().Add(128009));
        Assert.Equal("<|eot_id|>", llama3.CreateStreamingDetokenizer(renderSpecial: true).Add(128009));
    }

    [Theory]
    [InlineData(new byte[] { 0x41 }, 1)]
    [InlineData(new byte[] { 0x41, 0xE6 }, 1)]
    [InlineData(new byte[] { 0x41, 0xE6, 0x88 }, 1)]
    [InlineData(new byte[] { 0x41, 0xE6, 0x88, 0x91 }, 4)]
    [InlineData(new byte[] { 0xF0, 0x9F, 0xA6 }, 0)]
    [InlineData(new byte[] { 0x88, 0x88 }, 2)]
    [InlineData(new byte[] { 0x41, 0xFF }, 2)]
    public void CompletePrefixLength_Utf8Tails_HoldsBackOnlyCompletableSequences(byte[] bytes, int expected)
    {
        Assert.Equal(expected, StreamingDetokenizer.CompletePrefixLength(bytes));
    }
}
