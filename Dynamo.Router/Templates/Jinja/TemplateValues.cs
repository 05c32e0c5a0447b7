using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dynamo.Router.Templates.Jinja;

/// <summary>Converts .NET values handed to a template into the template value model.</summary>
internal static class TemplateValues
{
    public static object? From(object? value) => value switch
    {
        null => null,
        string or bool or long or double => value,
        int or short or byte or uint or sbyte or ushort => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        float f => (double)f,
        decimal m => (double)m,
        JsonElement element => PyJson.FromJson(element),
        JsonNode node => PyJson.FromJson(JsonSerializer.SerializeToElement(node)),
        PyDict or PyTuple or PyNamespace => value,
        IDictionary dictionary => FromDictionary(dictionary),
        IEnumerable sequence => sequence.Cast<object?>().Select(From).ToList(),
        _ => throw new ArgumentException($"A {value.GetType().Name} cannot be passed to a template.", nameof(value)),
    };

    private static PyDict FromDictionary(IDictionary dictionary)
    {
        var result = new PyDict();
        foreach (DictionaryEntry entry in dictionary)
        {
            result[From(entry.Key) ?? throw new ArgumentException("A dictionary key cannot be null.", nameof(dictionary))] = From(entry.Value);
        }

        return result;
    }
}
