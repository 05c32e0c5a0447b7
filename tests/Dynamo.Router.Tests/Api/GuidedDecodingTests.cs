using System.Net;
using System.Text;
using System.Text.Json;
using Dynamo.Runtime.Guided;

namespace Dynamo.Router.Tests.Api;

/// <summary>
/// Forced tool calls and response_format on the real serving slice: the default model has random weights, so
/// schema-valid JSON and well-formed tool_calls can only come from guided decoding.
/// </summary>
[Collection(RouterClusterCollection.Name)]
public sealed class GuidedDecodingTests(RouterCluster cluster)
{
    // Bounded parameters, so a model with random weights completes them well within max_tokens.
    private const string WeatherParameters = """{"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"]}""";
    private const string TimeParameters = """{"type":"object","properties":{"zone":{"enum":["UTC","CET"]},"exact":{"type":"boolean"}},"required":["zone","exact"]}""";
    private const string Tools = $$$"""
        [{"type":"function","function":{"name":"get_weather","parameters":{{{WeatherParameters}}}}},
         {"type":"function","function":{"name":"get_time","parameters":{{{TimeParameters}}}}}]
        """;

    [Theory]
    [InlineData(0.0, null)]
    [InlineData(1.0, 42)]
    public async Task CompleteChat_NamedToolChoice_ReturnsThatCallWithSchemaValidArguments(double temperature, int? seed)
    {
        using var answer = await PostAsync(Body("""{"type":"function","function":{"name":"get_weather"}}""", stream: false, temperature, seed));
        var choice = answer.RootElement.GetProperty("choices")[0];
        var message = choice.GetProperty("message");

        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.StartsWith("call_", call.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        AssertArguments(WeatherParameters, call.GetProperty("function").GetProperty("arguments").GetString()!);
        Assert.True(message.TryGetProperty("content", out var content) is false || content.ValueKind == JsonValueKind.Null || content.GetString() == "");
    }

    [Fact]
    public async Task CompleteChat_RequiredToolChoice_EveryCallNamesAToolWithItsArguments()
    {
        // "required" is an array of calls of any length, each with bounded whitespace: a random-weight model ends
        // it after a few calls, but how many depends on its last logit bits, so the budget is far above that.
        using var answer = await PostAsync(Body("\"required\"", stream: false, 0.9, 7, maxTokens: RequiredCallsMaxTokens));
        var choice = answer.RootElement.GetProperty("choices")[0];

        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var calls = choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.NotEmpty(calls);
        Assert.Equal(calls.Count, calls.Select(c => c.GetProperty("id").GetString()).Distinct().Count());
        Assert.All(calls, call =>
        {
            var function = call.GetProperty("function");
            var name = function.GetProperty("name").GetString();
            Assert.Contains(name, new[] { "get_weather", "get_time" });
            AssertArguments(name == "get_weather" ? WeatherParameters : TimeParameters, function.GetProperty("arguments").GetString()!);
        });
    }

    [Fact]
    public async Task CompleteChatStreaming_NamedToolChoice_StreamsTheCallAndFinishesWithToolCalls()
    {
        using var http = new HttpClient { BaseAddress = cluster.RouterAddress, Timeout = TimeSpan.FromSeconds(120) };
        using var response = await http.PostAsync("/v1/chat/completions", Json(Body("""{"type":"function","function":{"name":"get_time"}}""", stream: true, 0, null)));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var chunks = text.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement.GetProperty("choices")[0].Clone()).ToList();

        var calls = chunks.Where(c => c.GetProperty("delta").TryGetProperty("tool_calls", out _))
            .SelectMany(c => c.GetProperty("delta").GetProperty("tool_calls").EnumerateArray()).ToList();
        Assert.Equal("get_time", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.All(calls, c => Assert.Equal(0, c.GetProperty("index").GetInt32()));
        AssertArguments(TimeParameters, string.Concat(calls.Select(c => c.GetProperty("function").TryGetProperty("arguments", out var a) ? a.GetString() : "")));
        Assert.Equal("tool_calls", chunks.Last(c => c.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String).GetProperty("finish_reason").GetString());
        Assert.EndsWith("data: [DONE]", text.TrimEnd(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CompleteChat_ResponseFormatJsonSchema_ContentMatchesTheSchema(bool strict)
    {
        const string Schema = """{"type":"object","properties":{"answer":{"type":"string","maxLength":8},"score":{"type":"integer"},"flags":{"type":"array","items":{"type":"boolean"},"maxItems":2}},"required":["answer","score","flags"],"additionalProperties":false}""";
        var format = $$"""{"type":"json_schema","json_schema":{"name":"rating","strict":{{(strict ? "true" : "false")}},"schema":""" + Schema + "}}";
        var body = $$"""{"model":"{{RouterCluster.Model}}","messages":[{"role":"user","content":"Rate this."}],"max_tokens":300,"temperature":0,"response_format":""" + format + "}";

        using var answer = await PostAsync(body);
        var choice = answer.RootElement.GetProperty("choices")[0];
        var content = choice.GetProperty("message").GetProperty("content").GetString()!;

        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.True(JsonSchemaGrammar.Compile(Schema).Accepts(content.Trim()), content);
        using var parsed = JsonDocument.Parse(content);
        Assert.Equal(["answer", "score", "flags"], parsed.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Completion_ResponseFormatJsonObject_TextIsAJsonObject()
    {
        var body = $$$"""{"model":"{{{RouterCluster.Model}}}","prompt":"JSON:","max_tokens":300,"temperature":0.7,"seed":3,"response_format":{"type":"json_object"}}""";
        using var http = new HttpClient { BaseAddress = cluster.RouterAddress, Timeout = TimeSpan.FromSeconds(120) };
        using var response = await http.PostAsync("/v1/completions", Json(body));
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var choice = answer.RootElement.GetProperty("choices")[0];
        var text = choice.GetProperty("text").GetString()!;

        // A free object can run past max_tokens; what was generated is then a valid prefix of one.
        var matcher = new JsonGrammarMatcher(JsonSchemaGrammar.AnyObject);
        Assert.True(matcher.TryAdvance(Encoding.UTF8.GetBytes(text)), text);
        if (choice.GetProperty("finish_reason").GetString() == "stop")
        {
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(text).RootElement.ValueKind);
        }
    }

    [Theory]
    [InlineData(""","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","pattern":"a"}}}""", "response_format", "pattern")]
    [InlineData(""","response_format":{"type":"yaml"}""", "response_format", "yaml")]
    [InlineData(""","response_format":{"type":"json_schema"}""", "response_format", "json_schema")]
    [InlineData(""","guided_json":{"type":"integer","minimum":0}""", "guided_json", "minimum")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"allOf":[]}}}}}],"tool_choice":"required" """, "tools", "allOf")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","response_format":{"type":"json_object"}""", "response_format", "Only one of")]
    public async Task CompleteChat_UnusableSchema_400NamingTheParameter(string extra, string param, string reason)
    {
        using var http = new HttpClient { BaseAddress = cluster.RouterAddress };
        var body = $$"""{"model":"{{RouterCluster.Model}}","messages":[{"role":"user","content":"hi"}]{{extra}}}""";
        using var response = await http.PostAsync("/v1/chat/completions", Json(body));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, json.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(reason, json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    internal const int RequiredCallsMaxTokens = 2000;

    private static string Body(string toolChoice, bool stream, double temperature, int? seed, int maxTokens = 300) =>
        $$"""{"model":"{{RouterCluster.Model}}","messages":[{"role":"user","content":"What is the weather in Oslo?"}],"tools":{{Tools}},"tool_choice":{{toolChoice}},"max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}},"temperature":{{temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}}{{(seed is { } s ? $",\"seed\":{s}" : "")}}}""";

    private static void AssertArguments(string parametersSchema, string arguments)
    {
        Assert.True(JsonSchemaGrammar.Compile(parametersSchema).Accepts(arguments.Trim()), arguments);
        using var parsed = JsonDocument.Parse(arguments);
        Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
    }

    private async Task<JsonDocument> PostAsync(string body)
    {
        using var http = new HttpClient { BaseAddress = cluster.RouterAddress, Timeout = TimeSpan.FromSeconds(120) };
        using var response = await http.PostAsync("/v1/chat/completions", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
