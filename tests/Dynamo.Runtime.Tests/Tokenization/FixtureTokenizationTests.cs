using System.Globalization;
using System.Text;

namespace Dynamo.Runtime.Tests.Tokenization;

/// <summary>Every reference tokenization of llama.cpp's test-tokenizer-0 fixtures, one row per case.</summary>
public sealed class FixtureTokenizationTests
{
    public static TheoryData<string, int> AllCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in TokenizerFixtures.VocabNames)
        {
            for (var i = 0; i < TokenizerFixtures.Cases(name).Count; i++)
            {
                data.Add(name, i);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Encode_FixtureCase_MatchesLlamaCpp(string vocab, int caseIndex)
    {
        var tokenizer = TokenizerFixtures.Load(vocab);
        var (text, expected) = TokenizerFixtures.Cases(vocab)[caseIndex];

        var actual = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);

        Assert.True(
            expected.SequenceEqual(actual),
            $"input {Escape(text)}\nexpected [{string.Join(' ', expected)}]\nactual   [{string.Join(' ', actual)}]");
    }

    [Fact]
    public void Fixtures_EachVocabulary_HasFortySixCases()
    {
        foreach (var name in TokenizerFixtures.VocabNames)
        {
            Assert.Equal(46, TokenizerFixtures.Cases(name).Count);
        }
    }

    [Fact]
    public void SplitInputs_SeparatorOwnsSurroundingNewlines_KeepsInnerNewlines()
    {
        var inputs = TokenizerFixtures.SplitInputs("a\n__ggml_vocab_test__\n\n\n__ggml_vocab_test__\n\n b\n__ggml_vocab_test__\n");

        Assert.Equal(["a", "\n", "\n b"], inputs);
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }
}
