using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dynamo.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dynamo.Router.Tests.Api;

/// <summary>
/// A tool-call round trip on a real serving path: router (Qwen 2.5's chat template, so the hermes parser is inferred)
/// → a real worker running the <c>openai</c> engine in text mode → a scripted OpenAI-compatible upstream whose answers
/// are hermes <c>&lt;tool_call&gt;</c> text or plain text. The worker turns the text into the default model's token
/// ids, the router decodes and parses them back.
/// </summary>
public sealed class ToolCallTests : IAsyncLifetime
{
    private const string Call = """<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>""";
    private const string Tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";

    private readonly RouterCluster _cluster = new();
    private readonly ScriptedUpstream _upstream = new();
    private WebApplication? _worker;
    private WebApplication? _router;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        await _upstream.StartAsync();
        await _cluster.StartBrokersAsync();
        _worker = await _cluster.StartWorkerAsync(new()
        {
            ["Worker:Engine"] = "openai",
            ["Worker:OpenAi:BaseUrl"] = _upstream.BaseUrl.ToString(),
            ["Worker:OpenAi:Tokens"] = "Text",
        });
        (_router, _address) = await _cluster.StartRouterAsync(new()
        {
            ["Router:ChatTemplatePath"] = Path.Combine(RepoPaths.Fixture("chat-templates"), "Qwen-Qwen2.5-7B-Instruct.jinja"),
        });
        await RouterCluster.WaitForWorkersAsync(_router, 1);
    }

    public async Task DisposeAsync()
    {
        await RouterCluster.StopAsync(_router);
        await RouterCluster.StopAsync(_worker);
        await _cluster.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task CompleteChat_ModelCallsATool_ReturnsToolCallsThenAnswersTheToolResult()
    {
        using var http = new HttpClient { BaseAddress = _address };
        _upstream.Answers.Enqueue(Call);
        _upstream.Answers.Enqueue("It is sunny in Paris.");

        using var first = await PostAsync(http, $$"""[{"role":"user","content":"Weather in Paris?"}]""", stream: false);
        var message = first.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.True(message.TryGetProperty("tool_calls", out _), first.RootElement.ToString());
        var call = message.GetProperty("tool_calls")[0];
        var id = call.GetProperty("id").GetString()!;
        var arguments = call.GetProperty("function").GetProperty("arguments").GetString()!;
        var history = $$$"""
            [{"role":"user","content":"Weather in Paris?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"{{{id}}}","type":"function","function":{"name":"get_weather","arguments":{{{JsonSerializer.Serialize(arguments)}}}}}]},
             {"role":"tool","tool_call_id":"{{{id}}}","content":"sunny, 24 C"}]
            """;
        using var second = await PostAsync(http, history, stream: false);

        Assert.Equal("tool_calls", first.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"city": "Paris"}""", arguments);
        Assert.Equal("stop", second.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("It is sunny in Paris.", second.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!.TrimStart());
        // The tool result reached the worker inside the rendered Qwen prompt (the upstream sees the worker's prompt text).
        Assert.Contains("sunny, 24 C", _upstream.Prompts.Last(), StringComparison.Ordinal);
        Assert.Contains("<tool_response>", _upstream.Prompts.Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamChat_ModelCallsATool_StreamsToolCallDeltasAndFinishesWithToolCalls()
    {
        using var http = new HttpClient { BaseAddress = _address };
        _upstream.Answers.Enqueue(Call);

        var chunks = await StreamAsync(http, """[{"role":"user","content":"Weather in Paris?"}]""");
        var deltas = chunks.Select(c => c.GetProperty("choices")).Where(c => c.GetArrayLength() > 0).Select(c => c[0]).ToList();
        var calls = deltas.Where(d => d.GetProperty("delta").TryGetProperty("tool_calls", out _))
            .SelectMany(d => d.GetProperty("delta").GetProperty("tool_calls").EnumerateArray()).ToList();
        var arguments = string.Concat(calls.Select(c => c.GetProperty("function").TryGetProperty("arguments", out var a) ? a.GetString() : ""));

        // OpenAI's shape: one entry per call index in a chunk, the first carrying id, type and name.
        Assert.All(deltas.Where(d => d.GetProperty("delta").TryGetProperty("tool_calls", out _)), d => Assert.Equal(1, d.GetProperty("delta").GetProperty("tool_calls").GetArrayLength()));
        Assert.Equal("function", calls[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("Paris", JsonDocument.Parse(arguments).RootElement.GetProperty("city").GetString());
        Assert.DoesNotContain(deltas, d => d.GetProperty("delta").TryGetProperty("content", out var c) && c.GetString() is { Length: > 0 } t && t.Contains("tool_call", StringComparison.Ordinal));
        Assert.Equal("tool_calls", deltas.Last(d => d.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String).GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task CompleteChat_NoToolsButCallShapedAnswer_KeepsItAsText()
    {
        using var http = new HttpClient { BaseAddress = _address };
        _upstream.Answers.Enqueue(Call);

        using var answer = await PostAsync(http, """[{"role":"user","content":"Show me a tool call."}]""", stream: false, tools: null);
        var choice = answer.RootElement.GetProperty("choices")[0];

        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(Call, choice.GetProperty("message").GetProperty("content").GetString()!.TrimStart());
    }

    [Theory]
    [InlineData("""{"type":"function","function":{"name":"other"}}""", "not among 'tools'")]
    [InlineData("\"sometimes\"", "Invalid value for 'tool_choice'")]
    public async Task CompleteChat_UnservableToolChoice_Answers400NamingToolChoice(string toolChoice, string reason)
    {
        using var http = new HttpClient { BaseAddress = _address };
        var body = $$"""{"model":"{{RouterCluster.Model}}","messages":[{"role":"user","content":"hi"}],"tools":{{Tools}},"tool_choice":{{toolChoice}}}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("tool_choice", json.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(reason, json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static async Task<JsonDocument> PostAsync(HttpClient http, string messages, bool stream, string? tools = Tools)
    {
        var body = $$"""{"model":"{{RouterCluster.Model}}","messages":{{messages}},"max_tokens":400,"stream":{{(stream ? "true" : "false")}}{{(tools is null ? "" : ",\"tools\":" + tools)}}}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text);
    }

    private static async Task<List<JsonElement>> StreamAsync(HttpClient http, string messages)
    {
        var body = $$"""{"model":"{{RouterCluster.Model}}","messages":{{messages}},"max_tokens":400,"stream":true,"tools":{{Tools}}}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return [.. text.Split('\n')
            .Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement.Clone())];
    }

    /// <summary>
    /// An OpenAI-compatible <c>/v1/completions</c> server that answers with the next scripted text, and records each
    /// prompt it was sent, decoded. The text goes out in one chunk: the worker's text mode re-encodes the text so far
    /// on every chunk and treats all but its last token as final, so a word split across chunks ("argu" + "ments")
    /// can lose characters when the tokenizer merges differently once the word is whole. Its encoding also adds the
    /// tokenizer's leading-space prefix, which is why answers are compared after TrimStart.
    /// </summary>
    private sealed class ScriptedUpstream : IAsyncDisposable
    {
        private WebApplication? _app;

        public ConcurrentQueue<string> Answers { get; } = new();

        public ConcurrentQueue<string> Prompts { get; } = new();

        public Uri BaseUrl { get; private set; } = null!;

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            _app = builder.Build();
            var tokenizer = Dynamo.Router.Models.ServedModel.Load(RouterCluster.Model, RouterCluster.ModelPath, null).Tokenizer;
            _app.MapPost("/v1/completions", async context =>
            {
                var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
                var prompt = body["prompt"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
                Prompts.Enqueue(tokenizer.Decode(prompt));
                var answer = Answers.TryDequeue(out var next) ? next : throw new InvalidOperationException("No scripted answer left.");
                context.Response.ContentType = "text/event-stream";
                await WriteAsync(context, new JsonObject
                {
                    ["object"] = "text_completion",
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["text"] = answer, ["finish_reason"] = "stop" }),
                });
                await WriteAsync(context, new JsonObject
                {
                    ["choices"] = new JsonArray(),
                    ["usage"] = new JsonObject { ["prompt_tokens"] = prompt.Length, ["completion_tokens"] = 1 },
                });
                await context.Response.WriteAsync("data: [DONE]\n\n");
            });
            await _app.StartAsync();
            BaseUrl = new Uri(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }

        private static async Task WriteAsync(HttpContext context, JsonObject chunk)
        {
            await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n");
            await context.Response.Body.FlushAsync();
        }
    }
}
