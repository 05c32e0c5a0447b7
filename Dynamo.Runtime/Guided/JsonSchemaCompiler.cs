using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dynamo.Runtime.Guided;

/// <summary>Turns a schema (the supported subset of JSON Schema) into <see cref="SchemaNode"/>s.</summary>
internal sealed partial class JsonSchemaCompiler
{
    /// <summary>The matcher tracks literal and property candidates in a 64-bit mask.</summary>
    public const int MaxAlternatives = 64;

    // Annotations change nothing a decoder must enforce; "format" is an annotation by default since draft 2019-09.
    private static readonly HashSet<string> s_ignored =
    [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
        "writeOnly", "format", "$defs", "definitions", "strict",
    ];

    private static readonly JsonWriterOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly JsonElement _root;
    private readonly List<SchemaNode> _nodes = [];
    private readonly Dictionary<string, int> _refs = new(StringComparer.Ordinal);

    public JsonSchemaCompiler(JsonElement root)
    {
        _root = root;
        _nodes.Add(new SchemaNode { Kind = SchemaKind.Any });
        _nodes.Add(new SchemaNode { Kind = SchemaKind.Object, AdditionalSchema = JsonSchemaGrammar.AnyNode });
        _nodes.Add(new SchemaNode { Kind = SchemaKind.Array, Items = JsonSchemaGrammar.AnyNode });
        _nodes.Add(new SchemaNode { Kind = SchemaKind.String });
        _nodes.Add(new SchemaNode { Kind = SchemaKind.Number });
        _nodes.Add(new SchemaNode { Kind = SchemaKind.Literal, Literals = [.. new[] { "true", "false", "null" }.Select(s => System.Text.Encoding.UTF8.GetBytes(s))] });
        foreach (var node in _nodes)
        {
            node.Seal();
        }
    }

    public JsonSchemaGrammar Compile()
    {
        var root = CompileSchema(_root, "#");
        return new JsonSchemaGrammar([.. _nodes], root);
    }

    private int NewNode(out SchemaNode node)
    {
        node = new SchemaNode();
        _nodes.Add(node);
        return _nodes.Count - 1;
    }

    private int CompileSchema(JsonElement schema, string path)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return JsonSchemaGrammar.AnyNode;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new JsonSchemaException($"The schema at {path} must be an object or true, got {schema.ValueKind}.", null, path);
        }

        foreach (var property in schema.EnumerateObject())
        {
            if (!s_ignored.Contains(property.Name) && !IsSupported(property.Name))
            {
                throw new JsonSchemaException(
                    $"JSON schema keyword '{property.Name}' at {path} is not supported by guided decoding.", property.Name, path);
            }
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            return CompileRef(reference, path);
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return LiteralNode([constant], path);
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
            {
                throw new JsonSchemaException($"'enum' at {path} must be a non-empty array.", "enum", path);
            }

            return LiteralNode([.. values.EnumerateArray()], path);
        }

        var union = schema.TryGetProperty("anyOf", out var anyOf) ? ("anyOf", anyOf)
            : schema.TryGetProperty("oneOf", out var oneOf) ? ("oneOf", oneOf)
            : default;
        if (union.Item1 is not null)
        {
            return UnionNode(schema, union.Item1, union.Item2, path);
        }

        if (!schema.TryGetProperty("type", out var type))
        {
            var implied = schema.TryGetProperty("properties", out _) || schema.TryGetProperty("additionalProperties", out _) ? "object"
                : schema.TryGetProperty("items", out _) ? "array"
                : null;
            return implied is null ? JsonSchemaGrammar.AnyNode : CompileTyped(schema, implied, path);
        }

        if (type.ValueKind == JsonValueKind.String)
        {
            return CompileTyped(schema, type.GetString()!, path);
        }

        if (type.ValueKind != JsonValueKind.Array || type.GetArrayLength() == 0)
        {
            throw new JsonSchemaException($"'type' at {path} must be a type name or a non-empty array of them.", "type", path);
        }

        var index = NewNode(out var node);
        node.Kind = SchemaKind.Union;
        node.Alternatives = [.. type.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String
            ? CompileTyped(schema, t.GetString()!, path)
            : throw new JsonSchemaException($"'type' at {path} must hold type names.", "type", path))];
        node.Seal();
        return index;
    }

    private static bool IsSupported(string keyword) => keyword is
        "type" or "properties" or "required" or "additionalProperties" or "items" or "minItems" or "maxItems"
        or "minLength" or "maxLength" or "enum" or "const" or "anyOf" or "oneOf" or "$ref";

    private int CompileTyped(JsonElement schema, string type, string path)
    {
        switch (type)
        {
            case "string":
                {
                    var index = NewNode(out var node);
                    node.Kind = SchemaKind.String;
                    node.MinLength = ReadCount(schema, "minLength", path, 0);
                    node.MaxLength = ReadCount(schema, "maxLength", path, int.MaxValue);
                    CheckRange(node.MinLength, node.MaxLength, "minLength", path);
                    node.Seal();
                    return index;
                }

            case "number" or "integer":
                {
                    var index = NewNode(out var node);
                    node.Kind = type == "number" ? SchemaKind.Number : SchemaKind.Integer;
                    node.Seal();
                    return index;
                }

            case "boolean":
                return LiteralNode([Parse("true"), Parse("false")], path);
            case "null":
                return LiteralNode([Parse("null")], path);
            case "array":
                {
                    var index = NewNode(out var node);
                    node.Kind = SchemaKind.Array;
                    node.Items = schema.TryGetProperty("items", out var items) ? CompileSchema(items, path + "/items") : JsonSchemaGrammar.AnyNode;
                    node.MinItems = ReadCount(schema, "minItems", path, 0);
                    node.MaxItems = ReadCount(schema, "maxItems", path, int.MaxValue);
                    CheckRange(node.MinItems, node.MaxItems, "minItems", path);
                    node.Seal();
                    return index;
                }

            case "object":
                return CompileObject(schema, path);
            default:
                throw new JsonSchemaException($"Unknown 'type' '{type}' at {path}.", "type", path);
        }
    }

    private int LiteralNode(IReadOnlyList<JsonElement> values, string path)
    {
        if (values.Count > MaxAlternatives)
        {
            throw new JsonSchemaException($"'enum' at {path} has {values.Count} values; guided decoding supports at most {MaxAlternatives}.", "enum", path);
        }

        var index = NewNode(out var node);
        node.Kind = SchemaKind.Literal;
        node.Literals = [.. values.Select(Compact).Distinct(ByteArrayContent.Instance)];
        node.Seal();
        return index;
    }

    private static byte[] Compact(JsonElement value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_compact))
        {
            value.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static int ReadCount(JsonElement schema, string keyword, string path, int absent)
    {
        if (!schema.TryGetProperty(keyword, out var value))
        {
            return absent;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var count) && count >= 0
            ? count
            : throw new JsonSchemaException($"'{keyword}' at {path} must be a non-negative integer.", keyword, path);
    }

    private static void CheckRange(int min, int max, string keyword, string path)
    {
        if (min > max)
        {
            throw new JsonSchemaException($"'{keyword}' at {path} is larger than its maximum counterpart.", keyword, path);
        }
    }

    private sealed class ByteArrayContent : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayContent Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
