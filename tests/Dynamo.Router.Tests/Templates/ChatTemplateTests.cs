using System.Text.Json;
using Dynamo.Router.Templates;
using Dynamo.Router.Templates.Jinja;

namespace Dynamo.Router.Tests.Templates;

public sealed class ChatTemplateTests
{
    private static readonly string s_qwen = Path.Combine(TemplateTestData.TemplatesDirectory, "Qwen-Qwen2.5-7B-Instruct.jinja");

    private static ChatTemplateRequest Request(string json) => ChatTemplateRequest.FromOpenAiRequest(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Render_ToolCallArgumentsAsJsonText_RenderLikeParsedArguments()
    {
        var template = ChatTemplate.Load(s_qwen);
        const string asText = """{"messages":[{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{\"a\": 1, \"b\": [true]}"}}]}]}""";
        const string asObject = """{"messages":[{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"f","arguments":{"a":1,"b":[true]}}}]}]}""";

        var text = template.Render(Request(asText));

        Assert.Equal(template.Render(Request(asObject)), text);
        Assert.Contains("{\"name\": \"f\", \"arguments\": {\"a\": 1, \"b\": [true]}}", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ToolCallArgumentsNotJson_ThrowsRenderError()
    {
        var template = ChatTemplate.Load(s_qwen);
        const string body = """{"messages":[{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{not json"}}]}]}""";

        var error = Assert.Throws<TemplateRenderException>(() => template.Render(Request(body)));

        Assert.StartsWith("tool call arguments are not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_KwargsNamingMessages_AreRejected()
    {
        var template = ChatTemplate.Compile("{{ messages }}");

        var error = Assert.Throws<TemplateRenderException>(() =>
            template.Render(Request("""{"messages":[],"chat_template_kwargs":{"messages":"x"}}""")));

        Assert.Equal("chat_template_kwargs may not set 'messages'", error.Message);
    }

    [Fact]
    public void Render_SpecialTokensAndKwargs_AreTemplateVariables()
    {
        var template = ChatTemplate.Compile(
            "{{ bos_token is defined }}|{{ eos_token }}|{{ enable_thinking }}|{{ tools }}|{{ documents }}|{{ add_generation_prompt }}",
            bosToken: null,
            eosToken: "</s>");

        var text = template.Render(Request("""{"messages":[],"add_generation_prompt":false,"chat_template_kwargs":{"enable_thinking":false}}"""));

        Assert.Equal("False|</s>|False|None|None|False", text);
    }

    [Fact]
    public void Load_UnsupportedTemplate_FailsAtLoadNamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.jinja");
        File.WriteAllText(path, "{{ messages | frobnicate }}");
        try
        {
            var error = Assert.Throws<TemplateException>(() => ChatTemplate.Load(path));

            Assert.Equal($"unsupported filter 'frobnicate' in {path} at line 1, col 15", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FromOpenAiRequest_NoAddGenerationPrompt_DefaultsToTrue()
    {
        var request = Request("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":null}""");

        Assert.True(request.AddGenerationPrompt);
        Assert.Null(request.Tools);
        Assert.Empty(request.Kwargs);
    }

    [Fact]
    public void FromOpenAiRequest_WithoutMessages_Throws()
    {
        Assert.Throws<ArgumentException>(() => Request("""{"model":"m"}"""));
    }
}

public sealed class ChatTemplateFromModelTests
{
    [Fact]
    public void FromModel_ConfiguredFile_WinsOverGgufTemplate()
    {
        var path = Path.Combine(TemplateTestData.TemplatesDirectory, "Qwen-Qwen3-0.6B.jinja");

        var template = ChatTemplate.FromModel(path, "{{ 'from gguf' }}", null, "<|im_end|>");

        Assert.Equal(File.ReadAllText(path), template.Source);
    }

    [Fact]
    public void FromModel_OnlyGgufTemplate_CompilesIt()
    {
        var template = ChatTemplate.FromModel(null, "{{ bos_token }}{{ messages | length }}", "<s>", "</s>");

        Assert.Equal("<s>0", template.Render(ChatTemplateRequest.FromOpenAiRequest(JsonDocument.Parse("""{"messages":[]}""").RootElement)));
    }

    [Fact]
    public void FromModel_NoTemplateAnywhere_FailsAtLoad()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ChatTemplate.FromModel(null, null, null, null));

        Assert.Contains("tokenizer.chat_template", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromModel_UnsupportedGgufTemplate_NamesTheSource()
    {
        var error = Assert.Throws<TemplateException>(() => ChatTemplate.FromModel(null, "\n\n{% import 'x' as y %}", null, null));

        Assert.Equal("unsupported statement 'import' in the GGUF's tokenizer.chat_template at line 3, col 4", error.Message);
    }
}
