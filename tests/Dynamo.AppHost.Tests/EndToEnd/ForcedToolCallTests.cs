using System.Text.Json;
using OpenAI.Chat;

namespace Dynamo.AppHost.Tests.EndToEnd;

/// <summary>
/// A tool-call round trip through gateway → router → worker with the official client: the model (random weights) is
/// forced to call a named tool, which only guided decoding can make well-formed; the tool's result goes back as a
/// <c>tool</c> message and the model answers.
/// </summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class ForcedToolCallTests(GatewayClusterFixture cluster)
{
    private const string Parameters = """{"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"]}""";

    [Fact]
    public async Task CompleteChat_NamedToolChoiceThenToolResult_CallsTheToolThenAnswers()
    {
        var chat = cluster.Client.GetChatClient(GatewayClusterFixture.Model);
        var tool = ChatTool.CreateFunctionTool("get_weather", "Current weather in a city.", BinaryData.FromString(Parameters));
        var forced = new ChatCompletionOptions { MaxOutputTokenCount = 200, Temperature = 0, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        forced.Tools.Add(tool);
        var messages = new List<ChatMessage> { new UserChatMessage("What is the weather in Oslo?") };

        ChatCompletion call = await chat.CompleteChatAsync(messages, forced);

        Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
        var toolCall = Assert.Single(call.ToolCalls);
        Assert.Equal("get_weather", toolCall.FunctionName);
        var arguments = toolCall.FunctionArguments.ToString();
        using (var sent = JsonDocument.Parse(arguments))
        {
            // Exactly the schema: both properties, in order, nothing else.
            Assert.Equal(["city", "unit"], sent.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.InRange(sent.RootElement.GetProperty("city").GetString()!.Length, 0, 12);
            Assert.Contains(sent.RootElement.GetProperty("unit").GetString(), new[] { "celsius", "fahrenheit" });
        }

        // The default model's template concatenates every message's content, so (as with transformers) the assistant
        // turn carrying the call needs text next to its tool_calls; a null content would be the template's TypeError.
        var assistant = new AssistantChatMessage(call.ToolCalls);
        assistant.Content.Add(ChatMessageContentPart.CreateTextPart($"Calling get_weather with {arguments}"));
        messages.Add(assistant);
        messages.Add(new ToolChatMessage(toolCall.Id, """{"temperature": 21, "sky": "clear"}"""));
        var answer = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0, ToolChoice = ChatToolChoice.CreateNoneChoice() };
        answer.Tools.Add(tool);

        ChatCompletion reply = await chat.CompleteChatAsync(messages, answer);

        Assert.Equal(ChatMessageRole.Assistant, reply.Role);
        Assert.Empty(reply.ToolCalls);
        Assert.Contains(reply.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.InRange(reply.Usage.OutputTokenCount, 1, 12);

        // The second prompt holds the call and its result, so it is longer than the first prompt plus the call.
        Assert.True(reply.Usage.InputTokenCount > call.Usage.InputTokenCount + call.Usage.OutputTokenCount / 2,
            $"{reply.Usage.InputTokenCount} vs {call.Usage.InputTokenCount}");
    }
}
