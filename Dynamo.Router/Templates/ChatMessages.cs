using System.Text.Json;
using Dynamo.Router.Templates.Jinja;

namespace Dynamo.Router.Templates;

/// <summary>
/// Turns OpenAI messages into what Hugging Face templates expect. OpenAI sends tool-call arguments as JSON text;
/// templates index and tojson them as dicts, so text arguments are parsed (as vLLM does before rendering).
/// </summary>
internal static class ChatMessages
{
    public static object? Normalize(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw new TemplateRenderException("messages must be a JSON array");
        }

        var list = (List<object?>)PyJson.FromJson(messages)!;
        foreach (var message in list)
        {
            if (message is PyDict dict && dict.TryGetValue("tool_calls", out var calls) && calls is List<object?> toolCalls)
            {
                foreach (var call in toolCalls)
                {
                    ParseArguments(call);
                }
            }
        }

        return list;
    }

    private static void ParseArguments(object? call)
    {
        if (call is not PyDict dict || !dict.TryGetValue("function", out var function) || function is not PyDict fn
            || !fn.TryGetValue("arguments", out var arguments) || arguments is not string text)
        {
            return;
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            fn["arguments"] = PyJson.FromJson(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new TemplateRenderException($"tool call arguments are not valid JSON: {e.Message}");
        }
    }
}
