using System.Text.Json;
using Dynamo.Router.Api;
using Dynamo.Router.Models;

namespace Dynamo.Router.Tests.Api;

public sealed class RequestValidationTests
{
    private static readonly Lazy<ServedModel> s_model = new(() => ServedModel.Load(RouterCluster.Model, RouterCluster.ModelPath, null));

    private static ServedModel Model => s_model.Value;

    [Fact]
    public void Load_DefaultModel_ReadsContextLengthAndCompilesItsTemplate()
    {
        Assert.Equal(4096, Model.ContextLength);
        Assert.Equal("<s>", Model.Template.BosToken);
        Assert.Equal("</s>", Model.Template.EosToken);
    }

    [Fact]
    public void ChatPrompt_Messages_RendersTheTemplateWithOneBosAndTheGenerationPrompt()
    {
        var (body, request) = Parse("""{"model":"dynamo-default","messages":[{"role":"user","content":"Hi"}]}""");

        var tokens = RequestValidation.ChatPrompt(body, request, Model).Tokens;

        Assert.Equal(Model.Tokenizer.Special.Bos, tokens[0]);
        Assert.NotEqual(Model.Tokenizer.Special.Bos, tokens[1]);
        Assert.EndsWith("<|assistant|>\n", Model.Tokenizer.Decode(tokens, renderSpecial: true), StringComparison.Ordinal);
    }

    [Fact]
    public void ChatPrompt_TextParts_AreRenderedLikeAString()
    {
        var (partsBody, parts) = Parse("""{"model":"dynamo-default","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}""");
        var (stringBody, text) = Parse("""{"model":"dynamo-default","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(RequestValidation.ChatPrompt(stringBody, text, Model).Tokens, RequestValidation.ChatPrompt(partsBody, parts, Model).Tokens);
    }

    [Theory]
    [InlineData("""{"tool_choice":"required"}""", "tool_choice")]
    [InlineData("""{"tool_choice":{"type":"function","function":{"name":"f"}}}""", "tool_choice")]
    [InlineData("""{"tools":{}}""", "tools")]
    public void ChatPrompt_UnsupportedToolOptions_Rejected(string extra, string param)
    {
        var json = """{"model":"dynamo-default","messages":[{"role":"user","content":"Hi"}],""" + extra[1..];
        var (body, request) = Parse(json);

        var error = Assert.Throws<OpenAiException>(() => RequestValidation.ChatPrompt(body, request, Model));

        Assert.Equal(param, error.Error.Param);
    }

    [Fact]
    public void CheckModel_OtherName_Throws404ModelNotFound()
    {
        var error = Assert.Throws<OpenAiException>(() => RequestValidation.CheckModel("gpt-4", Model));

        Assert.Equal(404, error.Status);
        Assert.Equal("model_not_found", error.Error.Code);
    }

    [Fact]
    public void Plan_NoMaxTokens_FillsTheRestOfTheContext()
    {
        var (_, request) = Parse("""{"model":"dynamo-default","prompt":[1,2,3]}""");

        var plan = RequestValidation.Plan("r", request, RequestValidation.CompletionPrompts(request, Model), Model, chat: false, maxChoices: 4);

        Assert.Equal(4096 - 3, plan.MaxTokens[0]);
    }

    [Fact]
    public void Plan_SeedWithSeveralChoices_GivesEachChoiceItsOwnSeed()
    {
        var (_, request) = Parse("""{"model":"dynamo-default","prompt":["a","b"],"n":2,"seed":10,"max_tokens":3,"stop":"x","stop_token_ids":[7]}""");

        var plan = RequestValidation.Plan("r", request, RequestValidation.CompletionPrompts(request, Model), Model, chat: false, maxChoices: 4);

        Assert.Equal(4, plan.ChoiceCount);
        Assert.Equal([10L, 11L, 12L, 13L], Enumerable.Range(0, 4).Select(i => plan.WorkerRequest(i).Sampling!.Seed!.Value));
        Assert.Equal(plan.Prompts[1], plan.WorkerRequest(3).TokenIds!);
        Assert.Equal(["x"], plan.StopStrings);
        Assert.Equal([7], plan.WorkerRequest(0).StopTokenIds!);
    }

    [Theory]
    [InlineData("""{"prompt":"a","n":5}""", "n")]
    [InlineData("""{"prompt":"a","max_tokens":0}""", "max_tokens")]
    [InlineData("""{"prompt":"a","min_tokens":9,"max_tokens":3}""", "min_tokens")]
    [InlineData("""{"prompt":"a","echo":true}""", "echo")]
    [InlineData("""{"prompt":"a","logprobs":21}""", "logprobs")]
    [InlineData("""{"prompt":"a","stop":["ok",""]}""", "stop")]
    [InlineData("""{"prompt":"a","max_tokens":4096}""", "prompt")]
    public void Plan_InvalidCompletionRequest_NamesTheParameter(string json, string param)
    {
        var (_, request) = Parse(json);

        var error = Assert.Throws<OpenAiException>(() =>
            RequestValidation.Plan("r", request, RequestValidation.CompletionPrompts(request, Model), Model, chat: false, maxChoices: 4));

        Assert.Equal(param, error.Error.Param);
        Assert.Equal(400, error.Status);
    }

    [Theory]
    [InlineData("$.max_tokens", "max_tokens")]
    [InlineData("$.stream_options.include_usage", "stream_options.include_usage")]
    [InlineData("$.stop_token_ids[2]", "stop_token_ids")]
    [InlineData("$", null)]
    [InlineData(null, null)]
    public void ParamFromPath_JsonPath_GivesTheParameterName(string? path, string? expected) =>
        Assert.Equal(expected, OpenAiErrors.ParamFromPath(path));

    private static (JsonElement Body, OpenAiRequest Request) Parse(string json)
    {
        var body = JsonDocument.Parse(json).RootElement;
        return (body, body.Deserialize(RouterJsonContext.Default.OpenAiRequest)!);
    }
}
