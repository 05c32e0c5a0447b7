using System.Text.Json;
using Dynamo.TestSupport;

namespace Dynamo.Runtime.Tests.Tokenization;

/// <summary>
/// 250 seeded random strings (contractions in both cases, CJK, emoji with ZWJ, combining marks, exotic whitespace and
/// digits, control characters, special-token texts) tokenized by llama.cpp itself (llamacpp-reference.json, produced
/// with the prebuilt llama.cpp of the node-llama-cpp npm package on the same fixture vocabularies).
/// </summary>
public sealed class LlamaCppReferenceTests
{
    private static readonly Lazy<JsonElement> s_reference = new(() => JsonDocument.Parse(
        File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "Dynamo.Runtime.Tests", "Tokenization", "ReferenceData", "llamacpp-reference.json"))).RootElement);

    [Theory]
    [InlineData("llama-spm")]
    [InlineData("gpt-2")]
    [InlineData("llama-bpe")]
    [InlineData("qwen2")]
    public void Encode_RandomStrings_MatchLlamaCpp(string vocab) => AssertAll(vocab, "plain", (t, s) => Ids(t.Encode(s, addSpecial: false)));

    [Theory]
    [InlineData("llama-spm")]
    [InlineData("gpt-2")]
    [InlineData("llama-bpe")]
    [InlineData("qwen2")]
    public void Encode_RandomStringsParseSpecial_MatchLlamaCpp(string vocab) =>
        AssertAll(vocab, "special", (t, s) => Ids(t.Encode(s, addSpecial: false, parseSpecial: true)));

    [Theory]
    [InlineData("llama-spm")]
    [InlineData("gpt-2")]
    [InlineData("llama-bpe")]
    [InlineData("qwen2")]
    public void Decode_RandomStrings_MatchLlamaCpp(string vocab) =>
        AssertAll(vocab, "detokenized", (t, s) => t.Decode(t.Encode(s, addSpecial: false)));

    private static string Ids(int[] ids) => string.Join(' ', ids);

    private static void AssertAll(string vocab, string kind, Func<Dynamo.Runtime.Tokenization.ITokenizer, string, string> run)
    {
        var tokenizer = TokenizerFixtures.Load(vocab);
        var inputs = s_reference.Value.GetProperty("inputs");
        var expected = s_reference.Value.GetProperty(vocab).GetProperty(kind);
        Assert.Equal(250, inputs.GetArrayLength());

        var failures = new List<string>();
        for (var i = 0; i < inputs.GetArrayLength(); i++)
        {
            var input = inputs[i].GetString()!;
            var actual = run(tokenizer, input);
            if (actual != expected[i].GetString())
            {
                failures.Add($"#{i} {JsonSerializer.Serialize(input)}\n  expected {JsonSerializer.Serialize(expected[i].GetString())}\n  actual   {JsonSerializer.Serialize(actual)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n{string.Join('\n', failures.Take(5))}");
    }
}
