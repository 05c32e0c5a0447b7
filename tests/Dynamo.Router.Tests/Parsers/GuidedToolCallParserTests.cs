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
    public void Finish_GuidedArrayInPieces_EmitsEachCallWithIdNameAndArguments(int pieceLength)
    {
        const string Output = """[{"name": "get_time", "arguments": {}}, {"name":"get_weather","arguments":{"city": "Oslo \"centre\""}}]""";
        var parser = new GuidedToolCallParser(new Random(1));

        for (var i = 0; i < Output.Length; i += pieceLength)
        {
            Assert.True(parser.Push(Output.Substring(i, Math.Min(pieceLength, Output.Length - i))).IsEmpty);
        }

        var deltas = parser.Finish().ToolCalls;

        Assert.True(parser.SawToolCalls);
        Assert.Equal([0, 0, 1, 1], deltas.Select(d => d.Index));
        Assert.Equal(["get_time", "get_weather"], deltas.Where(d => d.Name is not null).Select(d => d.Name));
        Assert.All(deltas.Where(d => d.Name is not null), d => Assert.StartsWith("call_", d.Id, StringComparison.Ordinal));
        Assert.Equal("{}", deltas[1].ArgumentsDelta);
        Assert.Equal("""{"city": "Oslo \"centre\""}""", deltas[3].ArgumentsDelta);
    }

    [Fact]
    public void Finish_SingleObject_IsOneCall()
    {
        var parser = new GuidedToolCallParser(new Random(1));
        parser.Push("""{"name": "get_weather", "arguments": {"city": "Oslo"}}""");

        var deltas = parser.Finish().ToolCalls;

        Assert.Equal("get_weather", deltas[0].Name);
        Assert.Equal("""{"city": "Oslo"}""", deltas[1].ArgumentsDelta);
    }

    [Fact]
    public void Finish_OutputCutShort_KeepsItAsContent()
    {
        var parser = new GuidedToolCallParser(new Random(1));
        parser.Push("""[{"name": "get_weather", "argu""");

        var delta = parser.Finish();

        Assert.False(parser.SawToolCalls);
        Assert.Empty(delta.ToolCalls);
        Assert.Equal("""[{"name": "get_weather", "argu""", delta.Content);
    }

    private static ToolChoice Choice(string toolChoice) => ToolChoice.Resolve(Json(Tools), Json(toolChoice));

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
