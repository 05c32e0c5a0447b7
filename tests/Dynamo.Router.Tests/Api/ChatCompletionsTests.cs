using System.ClientModel;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Dynamo.Router.Tests.Api;

[Collection(RouterClusterCollection.Name)]
public sealed class ChatCompletionsTests(RouterCluster cluster)
{
    private OpenAIClientOptions Options => new() { Endpoint = new Uri(cluster.RouterAddress, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(120) };

    private ChatClient Chat => new(RouterCluster.Model, new ApiKeyCredential("unused"), Options);

    [Fact]
    public async Task CompleteChat_Greedy_ReturnsAssistantTextWithUsageCountingTheTemplatedPrompt()
    {
        var messages = new List<OpenAI.Chat.ChatMessage> { new SystemChatMessage("You are terse."), new UserChatMessage("Say hello.") };

        ChatCompletion completion = await Chat.CompleteChatAsync(messages, new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 });
        var promptTokens = await TokenizeAsync(new { messages = new object[] { new { role = "system", content = "You are terse." }, new { role = "user", content = "Say hello." } } });

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 8);
        Assert.Equal(promptTokens, completion.Usage.InputTokenCount);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.Equal(completion.Usage.OutputTokenCount == 8 ? ChatFinishReason.Length : ChatFinishReason.Stop, completion.FinishReason);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChatStreaming_WithUsage_StreamsTheSameTextAsTheWholeResponseAndEndsWithUsage()
    {
        var messages = new List<OpenAI.Chat.ChatMessage> { new UserChatMessage("Count to five.") };
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 };
        ChatCompletion whole = await Chat.CompleteChatAsync(messages, options);

        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync(messages, options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.True(updates > 2, $"expected several chunks, got {updates}");
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.FinishReason, finish);
    }

    [Fact]
    public async Task CompleteChat_NEqualsTwo_ReturnsTwoIndexedChoicesAndSumsCompletionTokens()
    {
        var body = """{"model":"dynamo-default","messages":[{"role":"user","content":"Pick a word."}],"n":2,"max_tokens":5,"temperature":1,"seed":7}""";

        ClientResult result = await Chat.CompleteChatAsync(BinaryContent.Create(BinaryData.FromString(body)));
        using var json = JsonDocument.Parse(result.GetRawResponse().Content.ToString());
        var choices = json.RootElement.GetProperty("choices");
        var usage = json.RootElement.GetProperty("usage");

        Assert.Equal(2, choices.GetArrayLength());
        Assert.Equal([0, 1], choices.EnumerateArray().Select(c => c.GetProperty("index").GetInt32()));
        Assert.All(choices.EnumerateArray(), c => Assert.NotNull(c.GetProperty("finish_reason").GetString()));
        Assert.InRange(usage.GetProperty("completion_tokens").GetInt32(), 2, 10);
    }

    [Fact]
    public async Task CompleteChat_SecondRequestSharingALongPrefix_ReportsCachedTokens()
    {
        var system = string.Join(' ', Enumerable.Range(0, 120).Select(i => $"rule{i}"));
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 2, Temperature = 0 };

        ChatCompletion first = await Chat.CompleteChatAsync([new SystemChatMessage(system), new UserChatMessage("First question?")], options);
        ChatCompletion second = await Chat.CompleteChatAsync([new SystemChatMessage(system), new UserChatMessage("Another question entirely?")], options);

        Assert.True(first.Usage.InputTokenCount > 200);
        Assert.True(second.Usage.InputTokenDetails.CachedTokenCount > 0, $"cached {second.Usage.InputTokenDetails.CachedTokenCount}");
        Assert.True(second.Usage.InputTokenDetails.CachedTokenCount < second.Usage.InputTokenCount);
    }

    [Fact]
    public async Task CompleteChat_StopStringInsideTheGreedyOutput_CutsTheTextBeforeItAndFinishesWithStop()
    {
        var messages = new List<OpenAI.Chat.ChatMessage> { new UserChatMessage("Tell me a story.") };
        ChatCompletion whole = await Chat.CompleteChatAsync(messages, new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0 });
        var text = whole.Content[0].Text;
        Assert.True(text.Length >= 12, $"the greedy output '{text}' is too short to cut");
        var stop = text.Substring(text.Length / 2, 3);

        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0 };
        options.StopSequences.Add(stop);
        ChatCompletion cut = await Chat.CompleteChatAsync(messages, options);

        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], cut.Content.Count == 0 ? "" : cut.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
    }

    [Fact]
    public async Task GetModels_ListsTheServedModel()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential("unused"), Options);

        OpenAIModelCollection models = await client.GetModelsAsync();

        Assert.Equal(RouterCluster.Model, Assert.Single(models).Id);
    }

    [Fact]
    public async Task Completions_StringPrompt_ReturnsTextCompletionWithUsage()
    {
        using var http = cluster.CreateClient();

        using var response = await http.PostAsJsonAsync("/v1/completions", new { model = RouterCluster.Model, prompt = "Once upon a time", max_tokens = 4, temperature = 0 });
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;

        Assert.True(response.IsSuccessStatusCode, root.ToString());
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.Equal(await TokenizeAsync(new { prompt = "Once upon a time" }), root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.InRange(root.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 4);
        Assert.Equal(JsonValueKind.String, root.GetProperty("choices")[0].GetProperty("text").ValueKind);
    }

    [Fact]
    public async Task Completions_TokenIdPromptStreamed_StreamsChunksThenDone()
    {
        using var http = cluster.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { model = RouterCluster.Model, prompt = new[] { 1, 450, 4996 }, max_tokens = 3, temperature = 0, stream = true, stream_options = new { include_usage = true } }),
        };

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("data: [DONE]", lines[^1]);
        using var usage = JsonDocument.Parse(lines[^2]["data: ".Length..]);
        Assert.Equal(3, usage.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
    }

    [Fact]
    public async Task Metrics_AfterACompletion_ExportsDynamoFrontendFamilies()
    {
        using var http = cluster.CreateClient();
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 3 });

        var text = await http.GetStringAsync("/metrics");

        Assert.True(await WorkerFailureTests.MetricAsync(http, "dynamo_frontend_requests_total") >= 1);
        Assert.True(await WorkerFailureTests.MetricAsync(http, "dynamo_frontend_output_sequence_tokens_count") >= 1);
        foreach (var family in new[]
        {
            "dynamo_frontend_inflight_requests", "dynamo_frontend_queued_requests", "dynamo_frontend_time_to_first_token_seconds_bucket",
            "dynamo_frontend_inter_token_latency_seconds_bucket", "dynamo_frontend_input_sequence_tokens_bucket", "dynamo_frontend_cached_tokens_bucket",
        })
        {
            Assert.Contains(family, text, StringComparison.Ordinal);
        }

        Assert.NotNull(completion);
    }

    [Fact]
    public async Task Detokenize_TokenizedPrompt_GivesTheTextBack()
    {
        using var http = cluster.CreateClient();
        using var tokenized = await http.PostAsJsonAsync("/tokenize", new { prompt = "Hello there, router", add_special_tokens = false });
        using var tokens = JsonDocument.Parse(await tokenized.Content.ReadAsStringAsync());

        using var detokenized = await http.PostAsJsonAsync("/detokenize", new { tokens = tokens.RootElement.GetProperty("tokens") });
        using var text = JsonDocument.Parse(await detokenized.Content.ReadAsStringAsync());

        Assert.Equal(4096, tokens.RootElement.GetProperty("max_model_len").GetInt32());
        Assert.Equal("Hello there, router", text.RootElement.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task Completions_WithRequestIdHeader_EchoesItBack()
    {
        using var http = cluster.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { model = RouterCluster.Model, prompt = "Hi", max_tokens = 1 }),
            Headers = { { "X-Request-Id", "gw-1234" } },
        };

        using var response = await http.SendAsync(request);

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal("gw-1234", Assert.Single(response.Headers.GetValues("X-Request-Id")));
    }

    private async Task<int> TokenizeAsync(object body)
    {
        using var http = cluster.CreateClient();
        using var response = await http.PostAsJsonAsync("/tokenize", body);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(response.IsSuccessStatusCode, json.RootElement.ToString());
        return json.RootElement.GetProperty("count").GetInt32();
    }
}
