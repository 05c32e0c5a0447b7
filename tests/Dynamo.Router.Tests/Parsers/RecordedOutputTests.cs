using System.Text.Json;
using Dynamo.Router.Parsers;

namespace Dynamo.Router.Tests.Parsers;

/// <summary>
/// Every recorded output parsed whole, then streamed split at every position, a character at a time and in random
/// chunkings: each way must give the recorded content, reasoning and calls.
/// </summary>
public sealed class RecordedOutputTests
{
    public static TheoryData<string, string> Outputs => RecordedOutput.Names();

    [Theory]
    [MemberData(nameof(Outputs))]
    public void ParseWhole_RecordedOutput_MatchesExpected(string file, string name)
    {
        var output = RecordedOutput.Get(file, name);

        var result = ParseResult.Run(Create(output, seed: 1), [output.Output]);

        AssertExpected(output, result);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void ParseStreamed_SplitAtEveryPosition_MatchesWholeParse(string file, string name)
    {
        var output = RecordedOutput.Get(file, name);
        var whole = ParseResult.Run(Create(output, seed: 1), [output.Output]);

        for (var split = 1; split < output.Output.Length; split++)
        {
            var streamed = ParseResult.Run(Create(output, seed: split), [output.Output[..split], output.Output[split..]]);

            AssertSame(whole, streamed, $"split at {split}");
        }
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void ParseStreamed_OneCharacterAtATime_MatchesExpected(string file, string name)
    {
        var output = RecordedOutput.Get(file, name);

        var result = ParseResult.Run(Create(output, seed: 2), output.Output.Select(c => c.ToString()));

        AssertExpected(output, result);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void ParseStreamed_RandomChunkings_MatchesExpected(string file, string name)
    {
        var output = RecordedOutput.Get(file, name);

        foreach (var seed in new[] { 7, 42, 1234, 98765 })
        {
            var result = ParseResult.Run(Create(output, seed), Chunk(output.Output, new Random(seed)));

            AssertExpected(output, result);
        }
    }

    private static IOutputParser Create(RecordedOutput output, int seed) =>
        OutputParsers.Create(output.ToolCallParser, output.ReasoningParser, new OutputParserOptions
        {
            StartsInReasoning = output.StartsInReasoning,
            Random = new Random(seed),
        });

    private static IEnumerable<string> Chunk(string text, Random random)
    {
        for (var at = 0; at < text.Length;)
        {
            var length = Math.Min(random.Next(1, 9), text.Length - at);
            yield return text.Substring(at, length);
            at += length;
        }
    }

    private static void AssertExpected(RecordedOutput output, ParseResult result)
    {
        Assert.Equal(output.Content, result.Content);
        Assert.Equal(output.Reasoning, result.Reasoning);
        Assert.Equal(output.Calls, result.Calls);
        Assert.Equal(output.Calls.Count > 0, result.SawToolCalls);
        foreach (var (_, arguments) in result.Calls.Where(_ => output.Name != "broken_arguments_after_name"))
        {
            using var parsed = JsonDocument.Parse(arguments);
            Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
        }
    }

    private static void AssertSame(ParseResult expected, ParseResult actual, string where)
    {
        Assert.True(expected.Content == actual.Content, $"{where}: content {actual.Content} != {expected.Content}");
        Assert.True(expected.Reasoning == actual.Reasoning, $"{where}: reasoning {actual.Reasoning} != {expected.Reasoning}");
        Assert.True(expected.Calls.SequenceEqual(actual.Calls), $"{where}: calls differ");
        Assert.Equal(expected.SawToolCalls, actual.SawToolCalls);
    }
}
