using Dynamo.Router.Parsers;

namespace Dynamo.Router.Tests.Parsers;

public sealed class OutputParsersTests
{
    [Fact]
    public void Validate_UnknownToolCallParser_ThrowsListingKnownNames()
    {
        var error = Assert.Throws<ArgumentException>(() => OutputParsers.Validate("qwen_xml", null));

        Assert.Equal("toolCallParser", error.ParamName);
        foreach (var name in ToolCallParsers.All)
        {
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_UnknownReasoningParser_ThrowsListingKnownNames()
    {
        var error = Assert.Throws<ArgumentException>(() => OutputParsers.Validate(null, "granite"));

        Assert.Equal("reasoningParser", error.ParamName);
        Assert.Contains("deepseek_r1", error.Message, StringComparison.Ordinal);
        Assert.Contains("qwen3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KnownNames_DoesNotThrow()
    {
        foreach (var tool in ToolCallParsers.All)
        {
            foreach (var reasoning in ReasoningParsers.All)
            {
                OutputParsers.Validate(tool, reasoning);
            }
        }
    }

    [Fact]
    public void Create_ToolChoiceNone_LeavesCallMarkupAsContent()
    {
        const string Output = "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>";
        var parser = OutputParsers.Create(ToolCallParsers.Hermes, null, new OutputParserOptions { ToolChoice = ToolChoice.None });

        var result = ParseResult.Run(parser, [Output]);

        Assert.Equal(Output, result.Content);
        Assert.Empty(result.Calls);
        Assert.False(result.SawToolCalls);
    }

    [Fact]
    public void Create_ToolChoiceNoneWithReasoning_StillSplitsReasoning()
    {
        var parser = OutputParsers.Create(ToolCallParsers.Hermes, ReasoningParsers.Qwen3, new OutputParserOptions { ToolChoice = ToolChoice.None });

        var result = ParseResult.Run(parser, ["<think>hm</think><tool_call>{}</tool_call>"]);

        Assert.Equal("hm", result.Reasoning);
        Assert.Equal("<tool_call>{}</tool_call>", result.Content);
    }

    [Fact]
    public void Create_NoParsers_PassesTextThrough()
    {
        var parser = OutputParsers.Create(null, null);

        Assert.Equal(new ParsedDelta("<think>x", null, []), parser.Push("<think>x"));
        Assert.True(parser.Finish().IsEmpty);
    }

    [Fact]
    public void Push_PartialTagAtChunkEnd_HeldBackOnlyUntilDecided()
    {
        var parser = OutputParsers.Create(ToolCallParsers.Hermes, null);

        Assert.Equal("Hello ", parser.Push("Hello <tool_").Content);
        Assert.Equal("<tool_box> ok", parser.Push("box> ok").Content);
        Assert.True(parser.Finish().IsEmpty);
    }

    [Fact]
    public void Push_CallStreamed_HeaderFirstThenArgumentFragmentsAsTheyArrive()
    {
        var parser = OutputParsers.Create(ToolCallParsers.Hermes, null, new OutputParserOptions { Random = new Random(3) });

        var header = parser.Push("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"ci");
        var middle = parser.Push("ty\": \"Par");
        var last = parser.Push("is\"}}\n</tool_call>");

        Assert.Equal(2, header.ToolCalls.Count);
        Assert.Equal("get_weather", header.ToolCalls[0].Name);
        Assert.Equal("", header.ToolCalls[0].ArgumentsDelta);
        Assert.Equal(new ToolCallDelta(0, null, null, "{\"ci"), header.ToolCalls[1]);
        Assert.Equal([new ToolCallDelta(0, null, null, "ty\": \"Par")], middle.ToolCalls);
        Assert.Equal([new ToolCallDelta(0, null, null, "is\"}")], last.ToolCalls);
        Assert.Null(last.Content);
        Assert.True(parser.SawToolCalls);
    }

    [Fact]
    public void Push_ReasoningSplitAcrossChunks_StreamsReasoningBeforeTheCloseTag()
    {
        var parser = OutputParsers.Create(null, ReasoningParsers.DeepSeekR1);

        Assert.Equal("Step one", parser.Push("Step one</th").Reasoning);
        var after = parser.Push("ink>\n\nAnswer");

        Assert.Null(after.Reasoning);
        Assert.Equal("Answer", after.Content);
    }

    [Fact]
    public void NewId_Random_LooksLikeOpenAiIds()
    {
        var id = ToolCallIds.New(new Random(5));

        Assert.Matches("^call_[A-Za-z0-9]{24}$", id);
        Assert.NotEqual(id, ToolCallIds.New(new Random(6)));
    }
}
