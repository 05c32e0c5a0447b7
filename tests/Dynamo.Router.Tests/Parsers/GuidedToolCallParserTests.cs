using System.Text.Json;
using Dynamo.Router.Parsers;
using Dynamo.Runtime.Guided;

namespace Dynamo.Router.Tests.Parsers;

public sealed class GuidedToolCallParserTests
{
    private const string Tools = """
        [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
         {"type": "function", "function": {"name": "get_time"}}]
        """;

    [Fact]
    public void GuidedSchema_NamedFunction_AcceptsOnlyThatNameWithItsParameters()
    {
        var schema = JsonSchemaGrammar.Compile(Choice("""{"type":"function","function":{"name":"get_weather"}}""").GuidedSchema(Json(Tools))!);

        Assert.True(schema.Accepts("""{"name": "get_weather", "arguments": {"city": "Oslo"}}"""));
        Assert.False(schema.Accepts("""{"name": "get_time", "arguments": {}}"""));
        Assert.False(schema.Accepts("""{"name": "get_weather", "arguments": {}}"""));
        Assert.False(schema.Accepts("""[{"name": "get_weather", "arguments": {"city": "Oslo"}}]"""));
    }

    [Fact]
    public void GuidedSchema_Required_AcceptsANonEmptyArrayOfAnyToolsCalls()
    {
        var schema = JsonSchemaGrammar.Compile(Choice("\"required\"").GuidedSchema(Json(Tools))!);

        Assert.True(schema.Accepts("""[{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city": "Oslo"}}]"""));
        Assert.False(schema.Accepts("[]"));
        Assert.False(schema.Accepts("""[{"name": "get_time", "arguments": {"city": "Oslo"}}]"""));
        Assert.False(schema.Accepts("""[{"name": "other", "arguments": {}}]"""));
    }

    [Theory]
    [InlineData("\"auto\"")]
    [InlineData("\"none\"")]
    public void GuidedSchema_ModelDecides_IsNull(string toolChoice) =>
        Assert.Null(Choice(toolChoice).GuidedSchema(Json(Tools)));

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(100)]
    public void Push_GuidedArrayInPieces_StreamsEachCallWithIdNameAndArguments(int pieceLength)
    {
        const string Output = """[{"name": "get_time", "arguments": {}}, {"name":"get_weather","arguments":{"city": "Oslo \"centre\""}}]""";

        var result = ParseResult.Run(new GuidedToolCallParser(new Random(1)), Pieces(Output, pieceLength));

        Assert.True(result.SawToolCalls);
        Assert.Null(result.Content);
        Assert.Equal([("get_time", "{}"), ("get_weather", """{"city": "Oslo \"centre\""}""")], result.Calls);
    }

    [Fact]
    public void Push_TokenByToken_OpensTheCallBeforeItsArgumentsAndStreamsThemInSeveralFragments()
    {
        const string Output = """{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}""";
        var parser = new GuidedToolCallParser(new Random(1));

        var deltas = Pieces(Output, 4).Select(parser.Push).Append(parser.Finish()).SelectMany(d => d.ToolCalls).ToList();

        Assert.Equal("get_weather", deltas[0].Name);
        Assert.Equal("", deltas[0].ArgumentsDelta);
        Assert.All(deltas.Skip(1), d => Assert.Null(d.Name));
        Assert.True(deltas.Count > 5, $"{deltas.Count} deltas");
        Assert.Equal("""{"city": "Oslo", "unit": "celsius"}""", string.Concat(deltas.Select(d => d.ArgumentsDelta)));
    }

    [Fact]
    public void Push_PrettyPrintedArray_DropsTheLayoutAroundCalls()
    {
        const string Output = "[\n  {\"name\": \"get_time\", \"arguments\": {}},\n  {\"name\": \"get_time\", \"arguments\": {}}\n]\n";

        var result = ParseResult.Run(new GuidedToolCallParser(new Random(1)), Pieces(Output, 2));

        Assert.Null(result.Content);
        Assert.Equal([("get_time", "{}"), ("get_time", "{}")], result.Calls);
    }

    [Fact]
    public void Finish_SingleObject_IsOneCall()
    {
        var result = ParseResult.Run(new GuidedToolCallParser(new Random(1)), ["""{"name": "get_weather", "arguments": {"city": "Oslo"}}"""]);

        Assert.Equal([("get_weather", """{"city": "Oslo"}""")], result.Calls);
        Assert.Null(result.Content);
    }

    [Fact]
    public void Finish_OutputCutShortBeforeArguments_KeepsItAsContent()
    {
        var parser = new GuidedToolCallParser(new Random(1));

        var result = ParseResult.Run(parser, ["""[{"name": "get_weather", "argu"""]);

        Assert.False(result.SawToolCalls);
        Assert.Empty(result.Calls);
        Assert.Equal("""[{"name": "get_weather", "argu""", result.Content);
    }

    [Fact]
    public void Finish_OutputCutShortInsideArguments_KeepsTheStreamedCallWithItsArgumentsSoFar()
    {
        var result = ParseResult.Run(new GuidedToolCallParser(new Random(1)), ["""[{"name": "get_weather", "arguments": {"ci""", "ty\": \"Os"]);

        Assert.True(result.SawToolCalls);
        Assert.Equal([("get_weather", """{"city": "Os""")], result.Calls);
        Assert.Null(result.Content);
    }

    private static IEnumerable<string> Pieces(string text, int length)
    {
        for (var i = 0; i < text.Length; i += length)
        {
            yield return text.Substring(i, Math.Min(length, text.Length - i));
        }
    }

    private static ToolChoice Choice(string toolChoice) => ToolChoice.Resolve(Json(Tools), Json(toolChoice));

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
