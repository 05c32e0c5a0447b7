using System.Buffers;
using System.Text.Json;

namespace Dynamo.Router.Api;

/// <summary>
/// Brings OpenAI messages into the shape text-only chat templates expect: a content given as text parts
/// (<c>[{"type":"text","text":…}]</c>) becomes one string, the parts joined by newlines, as vLLM does for
/// templates that concatenate <c>message['content']</c>. Other part types are refused: this router serves text models.
/// </summary>
internal static class MessageContent
{
    public static JsonElement Normalize(JsonElement messages)
    {
        var needsRewrite = false;
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                throw OpenAiException.Invalid($"messages[{index}] must be an object with a string 'role'.", "messages");
            }

            if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueEquals("text") is false
                        || !part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    {
                        throw OpenAiException.Invalid($"messages[{index}].content may hold only text parts ({{\"type\":\"text\",\"text\":\"…\"}}).", "messages");
                    }
                }

                needsRewrite = true;
            }

            index++;
        }

        return needsRewrite ? Rewrite(messages) : messages;
    }

    private static JsonElement Rewrite(JsonElement messages)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var message in messages.EnumerateArray())
            {
                writer.WriteStartObject();
                foreach (var property in message.EnumerateObject())
                {
                    if (property.NameEquals("content") && property.Value.ValueKind == JsonValueKind.Array)
                    {
                        writer.WriteString("content", string.Join('\n', property.Value.EnumerateArray().Select(p => p.GetProperty("text").GetString())));
                    }
                    else
                    {
                        property.WriteTo(writer);
                    }
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }
}
