using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI.Chat;

namespace Dynamo.AppHost.Tests.EndToEnd;

/// <summary>Refusals as an OpenAI client sees them through the gateway: status, error type, param and code.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class OpenAiErrorTests(GatewayClusterFixture cluster)
{
    private const string Model = GatewayClusterFixture.Model;

    [Fact]
    public async Task ListModels_WrongKey_Unauthorized()
    {
        var client = cluster.CreateClient("sk-dynamo-not-a-key");

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.GetOpenAIModelClient().GetModelsAsync());

        Assert.Equal(401, ex.Status);
        var error = ErrorOf(ex);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task CompleteChat_WrongKey_Unauthorized()
    {
        var chat = cluster.CreateClient("sk-dynamo-not-a-key").GetChatClient(Model);

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, ex.Status);
    }

    [Fact]
    public async Task CompleteChat_MalformedJson_BadRequest()
    {
        var ex = await SendAsync("{\"model\": \"dynamo-default\", \"messages\": [");

        Assert.Equal(400, ex.Status);
        Assert.Equal("invalid_request_error", ErrorOf(ex).GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("\"temperature\": \"hot\"", "temperature")]
    [InlineData("\"max_tokens\": \"ten\"", "max_tokens")]
    [InlineData("\"stream\": 3", "stream")]
    public async Task CompleteChat_WrongType_BadRequestNamingTheParameter(string field, string param)
    {
        var ex = await SendAsync($"{{\"model\": \"{Model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"hi\"}}], {field}}}");

        Assert.Equal(400, ex.Status);
        var error = ErrorOf(ex);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task CompleteChat_NegativeMaxTokens_BadRequestNamingMaxTokens()
    {
        var ex = await SendAsync($"{{\"model\": \"{Model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"hi\"}}], \"max_tokens\": -5}}");

        Assert.Equal(400, ex.Status);
        var error = ErrorOf(ex);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("max_tokens", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_NotFound()
    {
        var chat = cluster.Client.GetChatClient("no-such-model");

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, ex.Status);
        var error = ErrorOf(ex);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task CompleteChat_PromptLongerThanContext_ContextLengthExceeded()
    {
        var prompt = string.Join(' ', Enumerable.Repeat("overflow", 6000));
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 4 };

        var ex = await Assert.ThrowsAsync<ClientResultException>(
            () => cluster.Client.GetChatClient(Model).CompleteChatAsync([new UserChatMessage(prompt)], options));

        Assert.Equal(400, ex.Status);
        var error = ErrorOf(ex);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Contains("maximum context length", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private async Task<ClientResultException> SendAsync(string json)
    {
        var chat = cluster.Client.GetChatClient(Model);
        return await Assert.ThrowsAsync<ClientResultException>(
            () => chat.CompleteChatAsync(BinaryContent.Create(BinaryData.FromString(json)), new RequestOptions()));
    }

    private static JsonElement ErrorOf(ClientResultException ex)
    {
        var response = ex.GetRawResponse() ?? throw new InvalidOperationException($"No response: {ex.Message}");
        using var json = JsonDocument.Parse(response.Content);
        return json.RootElement.GetProperty("error").Clone();
    }
}
