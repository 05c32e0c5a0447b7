using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dynamo.Runtime.Guided;

/// <summary>Objects, unions and references.</summary>
internal sealed partial class JsonSchemaCompiler
{
    private int CompileObject(JsonElement schema, string path)
    {
        var index = NewNode(out var node);
        node.Kind = SchemaKind.Object;
        var names = new List<byte[]>();
        var schemas = new List<int>();
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("required", out var req))
        {
            if (req.ValueKind != JsonValueKind.Array || req.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
            {
                throw new JsonSchemaException($"'required' at {path} must be an array of property names.", "required", path);
            }

            required.UnionWith(req.EnumerateArray().Select(r => r.GetString()!));
        }

        var declared = new List<string>();
        var hasProperties = schema.TryGetProperty("properties", out var properties);
        if (hasProperties)
        {
            if (properties.ValueKind != JsonValueKind.Object)
            {
                throw new JsonSchemaException($"'properties' at {path} must be an object.", "properties", path);
            }

            foreach (var property in properties.EnumerateObject())
            {
                declared.Add(property.Name);
                names.Add(JsonEncodedText.Encode(property.Name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes.ToArray());
                schemas.Add(CompileSchema(property.Value, $"{path}/properties/{property.Name}"));
            }
        }

        if (declared.Count > MaxAlternatives)
        {
            throw new JsonSchemaException($"The object at {path} declares {declared.Count} properties; guided decoding supports at most {MaxAlternatives}.", "properties", path);
        }

        if (required.FirstOrDefault(r => !declared.Contains(r)) is { } undeclared)
        {
            throw new JsonSchemaException($"'required' at {path} names '{undeclared}', which is not among 'properties'.", "required", path);
        }

        node.PropertyNames = [.. names];
        node.PropertySchemas = [.. schemas];
        node.PropertyRequired = [.. declared.Select(required.Contains)];

        // Strict by default, as xgrammar and OpenAI's strict mode: declared properties only, unless asked otherwise.
        node.AdditionalSchema = !schema.TryGetProperty("additionalProperties", out var additional)
            ? hasProperties ? -1 : JsonSchemaGrammar.AnyNode
            : additional.ValueKind switch
            {
                JsonValueKind.False => -1,
                JsonValueKind.True => JsonSchemaGrammar.AnyNode,
                JsonValueKind.Object => CompileSchema(additional, path + "/additionalProperties"),
                _ => throw new JsonSchemaException($"'additionalProperties' at {path} must be a boolean or a schema.", "additionalProperties", path),
            };
        node.Seal();
        return index;
    }

    private int UnionNode(JsonElement schema, string keyword, JsonElement alternatives, string path)
    {
        if (alternatives.ValueKind != JsonValueKind.Array || alternatives.GetArrayLength() == 0)
        {
            throw new JsonSchemaException($"'{keyword}' at {path} must be a non-empty array of schemas.", keyword, path);
        }

        foreach (var sibling in new[] { "type", "properties", "items", "enum", "const", "anyOf", "oneOf" })
        {
            if (sibling != keyword && schema.TryGetProperty(sibling, out _))
            {
                throw new JsonSchemaException($"'{keyword}' together with '{sibling}' at {path} is not supported by guided decoding; move '{sibling}' into each alternative.", keyword, path);
            }
        }

        var index = NewNode(out var node);
        node.Kind = SchemaKind.Union;
        node.Alternatives = [.. alternatives.EnumerateArray().Select((a, i) => CompileSchema(a, $"{path}/{keyword}/{i}"))];
        node.Seal();
        return index;
    }

    private int CompileRef(JsonElement reference, string path)
    {
        if (reference.ValueKind != JsonValueKind.String || reference.GetString() is not { } target || !target.StartsWith('#'))
        {
            throw new JsonSchemaException($"'$ref' at {path} must be a local reference ('#/...').", "$ref", path);
        }

        if (_refs.TryGetValue(target, out var known))
        {
            return known;
        }

        var resolved = _root;
        foreach (var segment in target.Length > 1 ? target[2..].Split('/') : [])
        {
            var name = Uri.UnescapeDataString(segment).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (resolved.ValueKind != JsonValueKind.Object || !resolved.TryGetProperty(name, out resolved))
            {
                throw new JsonSchemaException($"'$ref' at {path} points at '{target}', which the schema does not have.", "$ref", path);
            }
        }

        // A union of one alternative stands in for the target, so a recursive reference can point at it before it is compiled.
        var index = NewNode(out var node);
        node.Kind = SchemaKind.Union;
        _refs[target] = index;
        node.Alternatives = [CompileSchema(resolved, target)];
        node.Seal();
        return index;
    }
}
