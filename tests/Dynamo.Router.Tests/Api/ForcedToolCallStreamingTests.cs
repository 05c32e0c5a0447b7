using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Dynamo.Runtime.Guided;
using OpenAI;
using OpenAI.Chat;

namespace Dynamo.Router.Tests.Api;

/// <summary>
/// Forced tool calls (guided decoding under the tools' schema) stream as OpenAI streams them: the call opens with
/// index, id, type and name and <c>arguments: ""</c>, then its arguments follow in fragments as they are generated,
/// and the choice finishes with <c>tool_calls</c>. Real router and native worker; the default model has random
/// weights, so only the grammar makes the calls well-formed.
/// </summary>
[Collection(RouterClusterCollection.Name)]
public sealed class ForcedToolCallStreamingTests(RouterCluster cluster)
{
    private const string WeatherParameters = """{"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"]}""";
    private const string TimeParameters = """{"type":"object","properties":{"zone":{"enum":["UTC","CET"]},"exact":{"type":"boolean"}},"required":["zone","exact"]}""";
    private const string Tools = $$$"""
        [{"type":"function","function":{"name":"get_weather","parameters":{{{WeatherParameters}}}}},
         {"type":"function","function":{"name":"get_time","parameters":{{{TimeParameters}}}}}]
        """;

    private ChatClient Chat => new(RouterCluster.Model, new ApiKeyCredential("unused"),
        new OpenAIClientOptions { Endpoint = new Uri(cluster.RouterAddress, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(120) });

    [Fact]
    public async Task CompleteChatStreaming_NamedToolChoice_ArgumentsArriveInSeveralUpdatesAndFormSchemaValidJson()
    {
        var options = Options(ChatToolChoice.CreateFunctionChoice("get_weather"));
        var updates = new List<StreamingChatToolCallUpdate>();
        ChatFinishReason? finish = null;

        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("What is the weather in Oslo?")], options))
        {
            updates.AddRange(update.ToolCallUpdates);
            finish = update.FinishReason ?? finish;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.All(updates, u => Assert.Equal(0, u.Index));
        Assert.StartsWith("call_", updates[0].ToolCallId, StringComparison.Ordinal);
        Assert.Equal("get_weather", updates[0].FunctionName);
        Assert.Equal(ChatToolCallKind.Function, updates[0].Kind);
        var fragments = updates.Select(u => u.FunctionArgumentsUpdate?.ToString() ?? "").Where(f => f.Length > 0).ToList();
        Assert.True(fragments.Count > 1, $"arguments came in {fragments.Count} fragment(s): {string.Join(" | ", fragments)}");
        AssertArguments(WeatherParameters, string.Concat(fragments));
    }

    [Fact]
    public async Task CompleteChatStreaming_RequiredToolChoice_EveryCallStreamsItsOwnSchemaValidArguments()
    {
        var options = Options(ChatToolChoice.CreateRequiredChoice());
        options.Temperature = 0.9f;
        options.MaxOutputTokenCount = GuidedDecodingTests.RequiredCallsMaxTokens;
#pragma warning disable OPENAI001 // Seed is marked experimental by the client; the router implements it.
        options.Seed = 7;
#pragma warning restore OPENAI001
        var updates = new List<StreamingChatToolCallUpdate>();
        ChatFinishReason? finish = null;

        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("What is the weather in Oslo?")], options))
        {
            updates.AddRange(update.ToolCallUpdates);
            finish = update.FinishReason ?? finish;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        var calls = updates.GroupBy(u => u.Index).OrderBy(g => g.Key).ToList();
        Assert.Equal(Enumerable.Range(0, calls.Count), calls.Select(c => c.Key));
        Assert.Equal(calls.Count, calls.Select(c => c.First().ToolCallId).Distinct().Count());
        Assert.All(calls, call =>
        {
            var name = call.First().FunctionName;
            Assert.Contains(name, new[] { "get_weather", "get_time" });
            Assert.All(call.Skip(1), u => Assert.Null(u.FunctionName));
            AssertArguments(name == "get_weather" ? WeatherParameters : TimeParameters, string.Concat(call.Select(u => u.FunctionArgumentsUpdate?.ToString())));
        });
    }

    [Fact]
    public async Task StreamChat_NamedToolChoiceTwoChoices_FirstDeltaCarriesIdAndNameAndLastChunkFinishesWithToolCalls()
    {
        using var http = cluster.CreateClient();
        var body = $$$"""{"model":"{{{RouterCluster.Model}}}","messages":[{"role":"user","content":"Time?"}],"tools":{{{Tools}}},"tool_choice":{"type":"function","function":{"name":"get_time"}},"n":2,"max_tokens":200,"stream":true,"temperature":1,"seed":3}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).ToList();
        var chunks = events.Where(e => e.StartsWith("data: {", StringComparison.Ordinal))
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0].Clone()).ToList();

        Assert.Equal("data: [DONE]", events[^1]);
        Assert.Equal("tool_calls", chunks[^1].GetProperty("finish_reason").GetString());
        foreach (var index in new[] { 0, 1 })
        {
            var mine = chunks.Where(c => c.GetProperty("index").GetInt32() == index).ToList();
            var calls = mine.Where(c => c.GetProperty("delta").TryGetProperty("tool_calls", out _))
                .Select(c => Assert.Single(c.GetProperty("delta").GetProperty("tool_calls").EnumerateArray())).ToList();
            var first = calls[0];
            Assert.Equal(0, first.GetProperty("index").GetInt32());
            Assert.StartsWith("call_", first.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal("function", first.GetProperty("type").GetString());
            Assert.Equal("get_time", first.GetProperty("function").GetProperty("name").GetString());
            Assert.Equal("", first.GetProperty("function").GetProperty("arguments").GetString());
            Assert.All(calls.Skip(1), c => Assert.False(c.TryGetProperty("id", out _) || c.GetProperty("function").TryGetProperty("name", out _), c.ToString()));
            Assert.True(calls.Count > 2, $"choice {index}: the call came in {calls.Count} delta(s)");
            AssertArguments(TimeParameters, string.Concat(calls.Select(c => c.GetProperty("function").GetProperty("arguments").GetString())));
            Assert.Equal("tool_calls", mine[^1].GetProperty("finish_reason").GetString());
        }
    }

    private static ChatCompletionOptions Options(ChatToolChoice choice)
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 300, Temperature = 0, ToolChoice = choice };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Current weather in a city.", BinaryData.FromString(WeatherParameters)));
        options.Tools.Add(ChatTool.CreateFunctionTool("get_time", "Current time in a zone.", BinaryData.FromString(TimeParameters)));
        return options;
    }

    private static void AssertArguments(string parametersSchema, string arguments)
    {
        Assert.True(JsonSchemaGrammar.Compile(parametersSchema).Accepts(arguments.Trim()), arguments);
        using var parsed = JsonDocument.Parse(arguments);
        Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
    }
}
