using System.Text.Json;
using Dynamo.Router.Parsers;

namespace Dynamo.Router.Tests.Parsers;

public sealed class ToolChoiceTests
{
    private const string Tools = """
        [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
         {"type": "function", "function": {"name": "get_time"}}]
        """;

    [Fact]
    public void Resolve_ToolsWithoutChoice_IsAuto()
    {
        Assert.Equal(ToolChoice.Auto, ToolChoice.Resolve(Json(Tools), null));
    }

    [Fact]
    public void Resolve_NoToolsNoChoice_IsNone()
    {
        var choice = ToolChoice.Resolve((JsonElement?)null, null);

        Assert.Equal(ToolChoiceMode.None, choice.Mode);
        Assert.False(choice.ParsesToolCalls);
    }

    [Theory]
    [InlineData("\"none\"", ToolChoiceMode.None)]
    [InlineData("\"auto\"", ToolChoiceMode.Auto)]
    [InlineData("\"required\"", ToolChoiceMode.Required)]
    [InlineData("null", ToolChoiceMode.Auto)]
    public void Resolve_StringChoiceWithTools_GivesMode(string choice, ToolChoiceMode expected)
    {
        Assert.Equal(expected, ToolChoice.Resolve(Json(Tools), Json(choice)).Mode);
    }

    [Fact]
    public void Resolve_NamedFunctionAmongTools_IsFunction()
    {
        var choice = ToolChoice.Resolve(Json(Tools), Json("""{"type": "function", "function": {"name": "get_time"}}"""));

        Assert.Equal(new ToolChoice(ToolChoiceMode.Function, "get_time"), choice);
        Assert.True(choice.ParsesToolCalls);
    }

    [Fact]
    public void Resolve_NamedFunctionNotAmongTools_ThrowsNamingToolChoice()
    {
        var error = Assert.Throws<ToolChoiceException>(() =>
            ToolChoice.Resolve(Json(Tools), Json("""{"type": "function", "function": {"name": "send_email"}}""")));

        Assert.Equal("tool_choice", error.ParamName);
        Assert.Contains("send_email", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"auto\"")]
    [InlineData("\"required\"")]
    [InlineData("""{"type": "function", "function": {"name": "get_time"}}""")]
    public void Resolve_ChoiceWithoutTools_ThrowsNamingToolChoice(string choice)
    {
        var error = Assert.Throws<ToolChoiceException>(() => ToolChoice.Resolve((JsonElement?)null, Json(choice)));

        Assert.Equal("tool_choice", error.ParamName);
        Assert.Contains("tools", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoneWithoutTools_IsNone()
    {
        Assert.Equal(ToolChoice.None, ToolChoice.Resolve((JsonElement?)null, Json("\"none\"")));
    }

    [Theory]
    [InlineData("\"sometimes\"")]
    [InlineData("42")]
    [InlineData("""{"type": "function"}""")]
    [InlineData("""{"type": "tool", "function": {"name": "get_time"}}""")]
    [InlineData("""{"type": "function", "function": {"name": ""}}""")]
    public void Resolve_InvalidChoice_ThrowsNamingToolChoice(string choice)
    {
        var error = Assert.Throws<ToolChoiceException>(() => ToolChoice.Resolve(Json(Tools), Json(choice)));

        Assert.Equal("tool_choice", error.ParamName);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""[{"type": "function"}]""")]
    [InlineData("""[{"type": "function", "function": {"name": 3}}]""")]
    [InlineData("""[{"type": "retrieval", "function": {"name": "x"}}]""")]
    public void Resolve_MalformedTools_ThrowsNamingTools(string tools)
    {
        var error = Assert.Throws<ToolChoiceException>(() => ToolChoice.Resolve(Json(tools), null));

        Assert.Equal("tools", error.ParamName);
    }

    [Fact]
    public void FunctionNames_Tools_InOrder()
    {
        Assert.Equal(["get_weather", "get_time"], ToolChoice.FunctionNames(Json(Tools)));
    }

    [Fact]
    public void Evaluate_RequiredWithoutCalls_ReportsMissingCall()
    {
        Assert.Equal(ToolChoiceOutcome.MissingRequiredCall, ToolChoice.Required.Evaluate([]));
        Assert.Equal(ToolChoiceOutcome.Satisfied, ToolChoice.Required.Evaluate(["get_time"]));
    }

    [Fact]
    public void Evaluate_NamedFunction_ChecksNames()
    {
        var choice = new ToolChoice(ToolChoiceMode.Function, "get_time");

        Assert.Equal(ToolChoiceOutcome.MissingRequiredCall, choice.Evaluate([]));
        Assert.Equal(ToolChoiceOutcome.WrongFunction, choice.Evaluate(["get_weather"]));
        Assert.Equal(ToolChoiceOutcome.Satisfied, choice.Evaluate(["get_time"]));
    }

    [Fact]
    public void Evaluate_AutoWithoutCalls_IsSatisfied()
    {
        Assert.Equal(ToolChoiceOutcome.Satisfied, ToolChoice.Auto.Evaluate([]));
    }

    private static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}
