using Dynamo.Router.Parsers;
using Dynamo.TestSupport;

namespace Dynamo.Router.Tests.Parsers;

/// <summary>Parser inference on the real chat templates in shared/fixtures/chat-templates.</summary>
public sealed class ParserInferenceTests
{
    [Theory]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja", ToolCallParsers.Hermes)]
    [InlineData("Qwen-Qwen3-0.6B.jinja", ToolCallParsers.Hermes)]
    [InlineData("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", ToolCallParsers.Hermes)]
    [InlineData("meta-llama-Llama-3.1-8B-Instruct.jinja", ToolCallParsers.Llama3Json)]
    [InlineData("mistralai-Mistral-Nemo-Instruct-2407.jinja", ToolCallParsers.Mistral)]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", ToolCallParsers.DeepSeekV3)]
    public void InferFromChatTemplate_RealTemplate_PicksItsToolFormat(string template, string expected)
    {
        Assert.Equal(expected, ToolCallParsers.InferFromChatTemplate(Read(template)));
    }

    [Theory]
    [InlineData("Qwen-Qwen3-0.6B.jinja", ReasoningParsers.Qwen3)]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", ReasoningParsers.DeepSeekR1)]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja", null)]
    [InlineData("meta-llama-Llama-3.1-8B-Instruct.jinja", null)]
    public void InferReasoningFromChatTemplate_RealTemplate_PicksItsReasoningFormat(string template, string? expected)
    {
        Assert.Equal(expected, ReasoningParsers.InferFromChatTemplate(Read(template)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{% for m in messages %}{{ m.content }}{% endfor %}")]
    public void InferFromChatTemplate_NoToolMarkup_IsNull(string? template)
    {
        Assert.Null(ToolCallParsers.InferFromChatTemplate(template));
        Assert.Null(ReasoningParsers.InferFromChatTemplate(template));
    }

    [Theory]
    [InlineData("<|im_start|>assistant\n<think>\n", true)]
    [InlineData("<｜Assistant｜><think>", true)]
    [InlineData("<|im_start|>assistant\n<think>\n\n</think>\n\n", false)]
    [InlineData("<|im_start|>assistant\n", false)]
    public void PromptOpensReasoning_RenderedPrompt_DetectsOpenThinkBlock(string prompt, bool expected)
    {
        Assert.Equal(expected, ReasoningParsers.PromptOpensReasoning(prompt));
    }

    private static string Read(string template) => File.ReadAllText(Path.Combine(RepoPaths.Fixture("chat-templates"), template));
}
