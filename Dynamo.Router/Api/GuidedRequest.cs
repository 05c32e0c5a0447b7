using System.Text.Json;
using Dynamo.Router.Parsers;
using Dynamo.Runtime.Guided;

namespace Dynamo.Router.Api;

/// <summary>
/// The JSON schema a request's output is decoded under, from whichever of its fields asks for one: a forced
/// <c>tool_choice</c> (the tools' schema), <c>response_format</c> (<c>json_object</c> / <c>json_schema</c>) or vLLM's
/// <c>guided_json</c>. The schema is compiled here too, so an unsupported one is a 400 naming the field before any
/// worker is involved.
/// </summary>
internal static class GuidedRequest
{
    public static string? Schema(OpenAiRequest request, ToolChoice? toolChoice)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sources = new List<(string Schema, string Param)>(1);
        if (toolChoice is { ForcesCall: true } forced && request.Tools is { } tools)
        {
            sources.Add((forced.GuidedSchema(tools)!, "tools"));
        }

        if (ResponseFormat(request.ResponseFormat) is { } format)
        {
            sources.Add((format, "response_format"));
        }

        if (request.GuidedJson is { ValueKind: not JsonValueKind.Null } guided)
        {
            sources.Add((guided.ValueKind switch
            {
                JsonValueKind.String => guided.GetString()!,
                JsonValueKind.Object => guided.GetRawText(),
                _ => throw OpenAiException.Invalid("'guided_json' must be a JSON schema (an object or its text).", "guided_json"),
            }, "guided_json"));
        }

        if (sources.Count == 0)
        {
            return null;
        }

        if (sources.Count > 1)
        {
            var names = string.Join(", ", sources.Select(s => s.Param == "tools" ? "tool_choice" : s.Param));
            throw OpenAiException.Invalid($"Only one of {names} can constrain the output of one request.", sources[1].Param == "tools" ? "tool_choice" : sources[1].Param);
        }

        var (schema, param) = sources[0];
        try
        {
            JsonSchemaGrammar.Compile(schema);
        }
        catch (JsonSchemaException ex)
        {
            var where = param == "tools" ? "A tool's parameters" : $"'{param}'";
            throw OpenAiException.Invalid($"{where}: {ex.Message}", param);
        }

        return schema;
    }

    /// <summary>OpenAI's <c>response_format</c>: text (no constraint), json_object (any object) or json_schema.</summary>
    private static string? ResponseFormat(JsonElement? format)
    {
        if (format is not { ValueKind: not JsonValueKind.Null } f)
        {
            return null;
        }

        if (f.ValueKind != JsonValueKind.Object || !f.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw OpenAiException.Invalid("'response_format' must be an object with a 'type'.", "response_format");
        }

        switch (type.GetString())
        {
            case "text":
                return null;
            case "json_object":
                return """{"type":"object"}""";
            case "json_schema":
                if (!f.TryGetProperty("json_schema", out var jsonSchema) || jsonSchema.ValueKind != JsonValueKind.Object)
                {
                    throw OpenAiException.Invalid("'response_format' of type json_schema needs a 'json_schema' object.", "response_format");
                }

                if (jsonSchema.TryGetProperty("strict", out var strict) && strict.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
                {
                    throw OpenAiException.Invalid("'response_format.json_schema.strict' must be a boolean.", "response_format");
                }

                // Guided decoding always enforces the schema, so strict true and false decode alike (as in vLLM).
                return jsonSchema.TryGetProperty("schema", out var schema) && schema.ValueKind is JsonValueKind.Object or JsonValueKind.True
                    ? schema.GetRawText()
                    : throw OpenAiException.Invalid("'response_format.json_schema' needs a 'schema' object.", "response_format");
            default:
                throw OpenAiException.Invalid($"'response_format' type '{type.GetString()}' is not supported; use 'text', 'json_object' or 'json_schema'.", "response_format");
        }
    }
}
