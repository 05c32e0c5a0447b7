using System.Text;
using Dynamo.Runtime.Guided;
using Dynamo.Runtime.Tests.Tokenization;
using Dynamo.Runtime.Tokenization;

namespace Dynamo.Runtime.Tests.Guided;

public sealed class TokenMaskTests
{
    private const string WeatherSchema = """
        {"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city","unit"]}
        """;

    [Theory]
    [InlineData("llama-spm")]
    [InlineData("qwen2")]
    public void Compute_EveryState_AllowsExactlyTheTokensTheMatcherAccepts(string vocab)
    {
        var tokenizer = TokenizerFixtures.Load(vocab);
        var table = GuidedTokenTable.FromTokenizer(tokenizer);
        var grammar = JsonSchemaGrammar.Compile(WeatherSchema);
        var computer = new TokenMaskComputer(table);
        var mask = new ulong[table.MaskWords];
        var matcher = new JsonGrammarMatcher(grammar);

        // Walk a valid document byte by byte and, at each prefix, compare the mask with a brute-force check of every token.
        foreach (var b in Encoding.UTF8.GetBytes("""{"city": "Oslo", "unit":"celsius","days":3}"""))
        {
            computer.Compute(matcher, mask);
            for (var id = 0; id < table.VocabSize; id++)
            {
                var allowed = (mask[id >> 6] & (1UL << id)) != 0;
                Assert.Equal(BruteForceAllows(grammar, matcher, table, id), allowed);
            }

            Assert.True(matcher.TryAdvance(b));
        }

        Assert.Equal(table.EndOfGenerationIds.Length, computer.Compute(matcher, mask));
        Assert.All(table.EndOfGenerationIds, id => Assert.NotEqual(0UL, mask[id >> 6] & (1UL << id)));
    }

    [Fact]
    public void Compute_InsideFreeString_AllowsPlainTokensAndClosingQuote()
    {
        var tokenizer = TokenizerFixtures.Load("llama-spm");
        var table = GuidedTokenTable.FromTokenizer(tokenizer);
        var matcher = new JsonGrammarMatcher(JsonSchemaGrammar.Compile("""{"type":"string"}"""));
        Assert.True(matcher.TryAdvance("\"ab"u8));
        var mask = new ulong[table.MaskWords];

        new TokenMaskComputer(table).Compute(matcher, mask);

        Assert.True(IsSet(mask, tokenizer.FindToken("▁the")!.Value));
        Assert.True(IsSet(mask, tokenizer.FindToken("\"")!.Value));
        Assert.False(IsSet(mask, tokenizer.Special.Eos!.Value));
        Assert.False(IsSet(mask, tokenizer.FindToken("<0x0A>")!.Value));
    }

    [Fact]
    public void ApplyMask_DisallowedTokens_BecomeNegativeInfinity()
    {
        var logits = Enumerable.Range(0, 130).Select(i => (float)i).ToArray();
        var mask = new ulong[3];
        mask[0] = 1UL << 5;
        mask[2] = 1UL << 1;

        TokenMaskComputer.ApplyMask(mask, logits);

        Assert.Equal(5f, logits[5]);
        Assert.Equal(129f, logits[129]);
        Assert.Equal(2, logits.Count(float.IsFinite));
    }

    [Fact]
    public void Accept_TokenOutsideMask_Throws()
    {
        var tokenizer = TokenizerFixtures.Load("llama-spm");
        var sequence = new GuidedJsonSequence(JsonSchemaGrammar.Compile("""{"type":"boolean"}"""), GuidedTokenTable.FromTokenizer(tokenizer));
        sequence.ComputeMask();

        Assert.Throws<InvalidOperationException>(() => sequence.Accept(tokenizer.Special.Eos!.Value));
        Assert.Throws<InvalidOperationException>(() => sequence.Accept(tokenizer.FindToken("1")!.Value));
        sequence.Accept(tokenizer.FindToken("true")!.Value);
        Assert.True(sequence.Matcher.IsDone);
        sequence.Accept(tokenizer.Special.Eos!.Value);
        Assert.True(sequence.Ended);
    }

    private static bool IsSet(ulong[] mask, int id) => (mask[id >> 6] & (1UL << id)) != 0;

    private static bool BruteForceAllows(JsonSchemaGrammar grammar, JsonGrammarMatcher current, GuidedTokenTable table, int id)
    {
        if (Array.IndexOf(table.EndOfGenerationIds, id) >= 0)
        {
            return current.CanFinish;
        }

        var piece = table.Piece(id);
        if (piece.IsEmpty)
        {
            return false;
        }

        var copy = new JsonGrammarMatcher(grammar);
        copy.State.CopyFrom(current.State);
        return copy.TryAdvance(piece);
    }
}
