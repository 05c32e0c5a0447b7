using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Dynamo.Router.Templates.Jinja;

/// <summary>
/// Python's json.dumps, which Hugging Face's <c>tojson</c> filter calls with ensure_ascii=False and sort_keys=False:
/// ", "/": " separators (or "," with an indent), floats as Python repr, non-ASCII left as is.
/// </summary>
internal static class PyJson
{
    public sealed record Options(bool EnsureAscii, string? Indent, string ItemSeparator, string KeySeparator, bool SortKeys);

    public static string Dumps(object? value, Options options)
    {
        var sb = new StringBuilder();
        Write(sb, value, options, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, Options o, int level)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyText.FloatRepr(d));
                break;
            case string s:
                WriteString(sb, s, o.EnsureAscii);
                break;
            case List<object?> list:
                WriteArray(sb, list, o, level);
                break;
            case PyTuple t:
                WriteArray(sb, t, o, level);
                break;
            case PyDict d:
                WriteObject(sb, d, o, level);
                break;
            case PyNamespace:
            case Undefined:
            default:
                throw new TemplateRenderException($"TypeError: Object of type {PyOps.TypeName(value)} is not JSON serializable");
        }
    }

    private static void WriteArray(StringBuilder sb, IReadOnlyList<object?> items, Options o, int level)
    {
        if (items.Count == 0)
        {
            sb.Append("[]");
            return;
        }

        sb.Append('[');
        for (var i = 0; i < items.Count; i++)
        {
            sb.Append(i == 0 ? "" : o.ItemSeparator);
            NewLine(sb, o, level + 1);
            Write(sb, items[i], o, level + 1);
        }

        NewLine(sb, o, level);
        sb.Append(']');
    }

    private static void WriteObject(StringBuilder sb, PyDict dict, Options o, int level)
    {
        if (dict.Count == 0)
        {
            sb.Append("{}");
            return;
        }

        IEnumerable<KeyValuePair<string, object?>> entries = dict.Select(kv => new KeyValuePair<string, object?>(KeyText(kv.Key), kv.Value));
        if (o.SortKeys)
        {
            entries = entries.OrderBy(kv => kv.Key, StringComparer.Ordinal);
        }

        sb.Append('{');
        var first = true;
        foreach (var (key, value) in entries)
        {
            sb.Append(first ? "" : o.ItemSeparator);
            first = false;
            NewLine(sb, o, level + 1);
            WriteString(sb, key, o.EnsureAscii);
            sb.Append(o.KeySeparator);
            Write(sb, value, o, level + 1);
        }

        NewLine(sb, o, level);
        sb.Append('}');
    }

    private static string KeyText(object key) => key switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PyText.FloatRepr(d),
        _ => throw new TemplateRenderException($"TypeError: keys must be str, int, float, bool or None, not {PyOps.TypeName(key)}"),
    };

    private static void NewLine(StringBuilder sb, Options o, int level)
    {
        if (o.Indent is null)
        {
            return;
        }

        sb.Append('\n');
        for (var i = 0; i < level; i++)
        {
            sb.Append(o.Indent);
        }
    }

    private static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                case > '\x7e' when ensureAscii:
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        sb.Append('"');
    }

    /// <summary>Converts parsed JSON into template values the way Python's json.loads does (ints stay ints).</summary>
    public static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => ToDict(element),
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => NumberFromJson(element),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static PyDict ToDict(JsonElement element)
    {
        var dict = new PyDict();
        foreach (var property in element.EnumerateObject())
        {
            dict[property.Name] = FromJson(property.Value);
        }

        return dict;
    }

    private static object NumberFromJson(JsonElement element)
    {
        var raw = element.GetRawText();
        var isInteger = raw.AsSpan().IndexOfAny(".eE") < 0;
        return isInteger && element.TryGetInt64(out var l) ? l : (object)element.GetDouble();
    }
}
