using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Dynamo.Router.Tests.Api;

[Collection(RouterClusterCollection.Name)]
public sealed class ErrorResponseTests(RouterCluster cluster)
{
    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}""", null, null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}""", "max_tokens", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "temperature", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"max_tokens":-5}""", "max_tokens", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":0}""", "max_completion_tokens", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":"hi"}""", "messages", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"n":0}""", "n", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"top_logprobs":3}""", "top_logprobs", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"stop":[1,2]}""", "stop", null)]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"max_tokens":4095}""", "messages", "context_length_exceeded")]
    [InlineData("/v1/chat/completions", """{"model":"dynamo-default","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"top_p":7}""", "top_p", null)]
    [InlineData("/v1/completions", """{"model":"dynamo-default","prompt":[1,2,99999999],"max_tokens":2}""", "prompt", null)]
    [InlineData("/v1/completions", """{"model":"dynamo-default","max_tokens":2}""", "prompt", null)]
    [InlineData("/v1/completions", """{"model":"dynamo-default","prompt":"x","logprobs":true}""", "logprobs", null)]
    public async Task Post_InvalidRequest_Returns400InOpenAiShapeNamingTheParameter(string path, string body, string? param, string? code)
    {
        var (status, error) = await PostAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString());
        Assert.Equal(code, error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Post_PromptPlusMaxTokensOverTheContext_NamesBothNumbers()
    {
        var prompt = string.Join(' ', Enumerable.Range(0, 1500).Select(i => $"word{i}"));
        var body = JsonSerializer.Serialize(new { model = RouterCluster.Model, prompt, max_tokens = 2000 });

        var (status, error) = await PostAsync("/v1/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("4096", message, StringComparison.Ordinal);
        Assert.Contains("2000 in the completion", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_Returns404ModelNotFound()
    {
        var (status, error) = await PostAsync("/v1/chat/completions", """{"model":"nope","messages":[{"role":"user","content":"hi"}]}""");
        var client = new ChatClient("nope", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(cluster.RouterAddress, "/v1") });

        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal(404, thrown.Status);
    }

    [Fact]
    public async Task CompleteChat_ModelWithoutWorkers_Returns503WithRetryAfter()
    {
        var (router, address) = await cluster.StartRouterAsync(new() { ["Router:Model"] = "lonely", ["Router:RetryAfterSeconds"] = "7" });
        try
        {
            using var http = new HttpClient { BaseAddress = address };
            using var response = await http.PostAsync("/v1/chat/completions",
                new StringContent("""{"model":"lonely","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Encoding.UTF8, "application/json"));
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
            Assert.Equal("service_unavailable", json.RootElement.GetProperty("error").GetProperty("type").GetString());
        }
        finally
        {
            await RouterCluster.StopAsync(router);
        }
    }

    private async Task<(HttpStatusCode Status, JsonElement Error)> PostAsync(string path, string body)
    {
        using var http = cluster.CreateClient();
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text);
        return (response.StatusCode, json.RootElement.GetProperty("error").Clone());
    }
}
