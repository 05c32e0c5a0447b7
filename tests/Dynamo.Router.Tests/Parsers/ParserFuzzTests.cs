using System.Text;
using Dynamo.Router.Parsers;

namespace Dynamo.Router.Tests.Parsers;

/// <summary>
/// Seeded random outputs stitched from markup fragments, JSON punctuation and valid calls: however they are
/// chunked they must parse the same, and an output that yields no call must come back as content unchanged.
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly string[] Common =
    [
        "a", " ", "\n", "{", "}", "[", "]", "\"", ":", ",", "\\", "1", "-", "true", "<", ">", "/", "é", "🌸",
        "\"name\"", "\"arguments\"", "\"parameters\"", "\"f\"", "{\"x\": [1, {\"y\": \"}\"}]}",
        "<think>", "</think>", "</thi",
    ];

    private static readonly Dictionary<string, string[]> Markup = new()
    {
        [ToolCallParsers.Hermes] =
        [
            "<tool_call>", "</tool_call>", "<tool_", "</tool",
            "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": \"</tool_call>\"}}\n</tool_call>",
        ],
        [ToolCallParsers.Llama3Json] =
        [
            "<|python_tag|>", "<|python", ";", "{\"name\": \"f\", \"parameters\": {\"a\": 1}}",
        ],
        [ToolCallParsers.Mistral] =
        [
            "[TOOL_CALLS]", "[TOOL_", "[ARGS]", "[AR", "f", "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}]",
            "[TOOL_CALLS]f[ARGS]{\"a\": [1]}",
        ],
        [ToolCallParsers.DeepSeekV3] =
        [
            DeepSeekV3ToolCallParser.CallsBegin, DeepSeekV3ToolCallParser.CallsEnd, DeepSeekV3ToolCallParser.CallBegin,
            DeepSeekV3ToolCallParser.CallEnd, DeepSeekV3ToolCallParser.Separator, "<｜tool▁", "function", "f",
            "\n```json\n", "```",
            DeepSeekV3ToolCallParser.CallsBegin + DeepSeekV3ToolCallParser.CallBegin + "function" + DeepSeekV3ToolCallParser.Separator + "f\n```json\n{\"a\": 1}\n```"
                + DeepSeekV3ToolCallParser.CallEnd,
        ],
    };

    public static TheoryData<string, string?> Parsers()
    {
        var data = new TheoryData<string, string?>();
        foreach (var tool in ToolCallParsers.All)
        {
            data.Add(tool, null);
            data.Add(tool, ReasoningParsers.Qwen3);
        }

        data.Add(ToolCallParsers.DeepSeekV3, ReasoningParsers.DeepSeekR1);
        return data;
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public void Parse_RandomOutputs_SameResultForEveryChunking(string tool, string? reasoning)
    {
        var random = new Random(tool.Length * 31 + (reasoning?.Length ?? 0));
        string[] pieces = [.. Common, .. Markup[tool]];
        var outputsWithCalls = 0;

        for (var n = 0; n < 300; n++)
        {
            var output = Output(random, pieces);
            var whole = ParseResult.Run(Create(tool, reasoning), [output]);
            outputsWithCalls += whole.SawToolCalls ? 1 : 0;
            if (reasoning is null && !whole.SawToolCalls)
            {
                Assert.Equal(output, whole.Content ?? "");
            }

            var perCharacter = ParseResult.Run(Create(tool, reasoning), output.Select(c => c.ToString()));
            Same(whole, perCharacter, output);
            for (var k = 0; k < 3; k++)
            {
                Same(whole, ParseResult.Run(Create(tool, reasoning), Chunk(output, random)), output);
            }
        }

        Assert.InRange(outputsWithCalls, 5, 295);
    }

    private static IOutputParser Create(string tool, string? reasoning) =>
        OutputParsers.Create(tool, reasoning, new OutputParserOptions { Random = new Random(0) });

    private static string Output(Random random, string[] pieces)
    {
        var text = new StringBuilder();
        for (var count = random.Next(1, 24); count > 0; count--)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }

        return text.ToString();
    }

    private static IEnumerable<string> Chunk(string text, Random random)
    {
        for (var at = 0; at < text.Length;)
        {
            var length = Math.Min(random.Next(1, 12), text.Length - at);
            yield return text.Substring(at, length);
            at += length;
        }
    }

    private static void Same(ParseResult whole, ParseResult streamed, string output)
    {
        var where = $"output {System.Text.Json.JsonSerializer.Serialize(output)}";
        Assert.True(whole.Content == streamed.Content, $"{where}: content {streamed.Content} != {whole.Content}");
        Assert.True(whole.Reasoning == streamed.Reasoning, $"{where}: reasoning {streamed.Reasoning} != {whole.Reasoning}");
        Assert.True(whole.Calls.SequenceEqual(streamed.Calls), $"{where}: calls differ");
    }
}
