namespace Dynamo.Runtime.Guided;

/// <summary>
/// A JSON schema that guided decoding cannot enforce: malformed, or using a keyword outside the supported subset.
/// <see cref="Keyword"/> names the offending keyword (null when the schema itself is malformed) and
/// <see cref="Path"/> where it sits, so an API can answer 400 naming both.
/// </summary>
public sealed class JsonSchemaException(string message, string? keyword = null, string path = "#") : Exception(message)
{
    public string? Keyword { get; } = keyword;

    public string Path { get; } = path;
}
