using System.Text;
using System.Text.Json;

namespace Dynamo.Runtime.Guided;

/// <summary>
/// A JSON schema compiled for guided decoding: the matcher (<see cref="JsonGrammarMatcher"/>) accepts exactly the
/// JSON texts the schema allows, within the supported subset. As in xgrammar's strict mode, declared properties come
/// in schema order and an object with <c>properties</c> takes no others unless <c>additionalProperties</c> says so.
/// Immutable and thread-safe: compile once per request, share among its matchers.
/// </summary>
public sealed class JsonSchemaGrammar
{
    internal const int AnyNode = 0;
    internal const int AnyObjectNode = 1;
    internal const int AnyArrayNode = 2;
    internal const int AnyStringNode = 3;
    internal const int AnyNumberNode = 4;
    internal const int AnyKeywordNode = 5;

    private static readonly Lazy<JsonSchemaGrammar> s_anyValue = new(() => Compile("{}"));
    private static readonly Lazy<JsonSchemaGrammar> s_anyObject = new(() => Compile("""{"type":"object"}"""));

    internal JsonSchemaGrammar(SchemaNode[] nodes, int root)
    {
        Nodes = nodes;
        Root = root;
    }

    /// <summary>Any JSON value.</summary>
    public static JsonSchemaGrammar AnyValue => s_anyValue.Value;

    /// <summary>Any JSON object: OpenAI's <c>response_format: {"type": "json_object"}</c>.</summary>
    public static JsonSchemaGrammar AnyObject => s_anyObject.Value;

    internal SchemaNode[] Nodes { get; }

    internal int Root { get; }

    /// <summary>Compiles schema text; throws <see cref="JsonSchemaException"/> naming what is wrong or unsupported.</summary>
    public static JsonSchemaGrammar Compile(string schemaJson)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schemaJson);
        }
        catch (JsonException ex)
        {
            throw new JsonSchemaException($"The schema is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            return Compile(document.RootElement);
        }
    }

    public static JsonSchemaGrammar Compile(JsonElement schema) => new JsonSchemaCompiler(schema).Compile();

    /// <summary>Whether <paramref name="json"/> is a complete text this grammar accepts (no trailing bytes).</summary>
    public bool Accepts(string json)
    {
        var matcher = new JsonGrammarMatcher(this);
        return matcher.TryAdvance(Encoding.UTF8.GetBytes(json)) && matcher.CanFinish;
    }
}
