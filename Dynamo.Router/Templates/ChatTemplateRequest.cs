using System.Text.Json;

namespace Dynamo.Router.Templates;

/// <summary>What a chat template renders: OpenAI-shaped messages and tools plus template switches.</summary>
/// <param name="Messages">A JSON array of messages: role, content (a string or a list of parts), tool_calls, tool_call_id, name, reasoning_content.</param>
public sealed record ChatTemplateRequest(JsonElement Messages)
{
    /// <summary>A JSON array of OpenAI tool objects, or null for none.</summary>
    public JsonElement? Tools { get; init; }

    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>Extra template variables (OpenAI's chat_template_kwargs), e.g. <c>enable_thinking</c>.</summary>
    public IReadOnlyDictionary<string, JsonElement> Kwargs { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>Reads the template-relevant parts of an OpenAI chat completions request body.</summary>
    public static ChatTemplateRequest FromOpenAiRequest(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            throw new ArgumentException("The request must be a JSON object with a 'messages' array.", nameof(body));
        }

        var kwargs = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (body.TryGetProperty("chat_template_kwargs", out var extra) && extra.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in extra.EnumerateObject())
            {
                kwargs[property.Name] = property.Value.Clone();
            }
        }

        return new ChatTemplateRequest(messages.Clone())
        {
            Tools = body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array ? tools.Clone() : null,
            AddGenerationPrompt = !body.TryGetProperty("add_generation_prompt", out var agp) || agp.ValueKind != JsonValueKind.False,
            Kwargs = kwargs,
        };
    }
}
