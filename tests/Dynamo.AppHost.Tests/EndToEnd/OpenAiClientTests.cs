using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;

namespace Dynamo.AppHost.Tests.EndToEnd;

/// <summary>The official OpenAI .NET client against the gateway of the real topology: gateway → router → worker.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class OpenAiClientTests(GatewayClusterFixture cluster)
{
    private const string Model = GatewayClusterFixture.Model;

    private ChatClient Chat => cluster.Client.GetChatClient(Model);

    [Fact]
    public async Task ListModels_DevelopmentKey_ListsTheDefaultModel()
    {
        var models = await cluster.Client.GetOpenAIModelClient().GetModelsAsync();

        Assert.Contains(models.Value, m => m.Id == Model);
    }

    [Fact]
    public async Task CompleteChat_ShortRequest_ReturnsTokensAndUsage()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0 };

        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Say hello.")], options);

        Assert.Equal(Model, completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.NotEmpty(completion.Content);
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Length, ChatFinishReason.Stop });
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 6);
        Assert.True(completion.Usage.InputTokenCount > 3);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task CompleteChatStreaming_IncludeUsage_StreamsDeltasThenUsage()
    {
        // The client asks for stream_options.include_usage itself on streaming calls.
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0 };
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("Count to three.")], options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.True(updates > 2, $"only {updates} updates");
        Assert.NotNull(finish);
        Assert.NotNull(usage);
        Assert.InRange(usage.OutputTokenCount, 1, 6);
        Assert.True(usage.InputTokenCount > 3);
        Assert.True(text.Length > 0);
    }

    [Fact]
    public async Task LegacyCompletion_Prompt_ReturnsTextChoice()
    {
        // OpenAI 2.x's LegacyCompletionClient exposes no call to /v1/completions, so this one is plain HTTP.
        var body = JsonSerializer.Serialize(new { model = Model, prompt = "Once upon a time", max_tokens = 5, temperature = 0 });

        var (status, json) = await cluster.PostRawAsync("/v1/completions", body);

        Assert.Equal(200, status);
        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        Assert.Equal(Model, json.GetProperty("model").GetString());
        var choice = Assert.Single(json.GetProperty("choices").EnumerateArray());
        Assert.Equal(JsonValueKind.String, choice.GetProperty("text").ValueKind);
        Assert.InRange(json.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 5);
    }

    [Fact]
    public async Task CompleteChat_NTwo_ReturnsTwoChoicesCountedInUsage()
    {
        var request = BinaryContent.Create(BinaryData.FromObjectAsJson(new
        {
            model = Model,
            messages = new[] { new { role = "user", content = "Pick a word." } },
            n = 2,
            max_tokens = 4,
            temperature = 1.0,
            seed = 7,
        }));

        var result = await Chat.CompleteChatAsync(request, new RequestOptions());

        using var json = JsonDocument.Parse(result.GetRawResponse().Content);
        var choices = json.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1], choices.Select(c => c.GetProperty("index").GetInt32()));
        var completionTokens = json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completionTokens, 2, 8);
    }

    [Fact]
    public async Task CompleteChat_SharedLongPrefix_SecondRequestReportsCachedTokens()
    {
        // A system prompt of several KV blocks that starts with a unique tag, so that even its first block was never
        // computed before (blocks are matched by the hash of the whole prefix).
        var words = Enumerable.Range(0, 120).Select(i => $"rule{i}");
        var system = new SystemChatMessage($"{Guid.NewGuid():N}. You follow these rules: {string.Join(' ', words)}.");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 2, Temperature = 0 };

        ChatCompletion first = await Chat.CompleteChatAsync([system, new UserChatMessage("First question?")], options);
        ChatCompletion second = await Chat.CompleteChatAsync([system, new UserChatMessage("Second question?")], options);

        Assert.Equal(0, first.Usage.InputTokenDetails?.CachedTokenCount ?? 0);
        Assert.NotNull(second.Usage.InputTokenDetails);
        Assert.True(second.Usage.InputTokenDetails.CachedTokenCount > 0, "the second request reused no cached prefix");
        Assert.True(second.Usage.InputTokenDetails.CachedTokenCount < second.Usage.InputTokenCount);
    }
}
