using System.Globalization;
using System.Text.RegularExpressions;

namespace Dynamo.Router.Templates.Jinja;

/// <summary>The supported filters, with Jinja2 3.1 semantics (tojson as Hugging Face overrides it).</summary>
internal static partial class Filters
{
    private static readonly Dictionary<string, FilterFunc> s_filters = new(StringComparer.Ordinal)
    {
        ["abs"] = (_, v, _) => v switch
        {
            long l => Math.Abs(l),
            double d => (object)Math.Abs(d),
            bool b => b ? 1L : 0L,
            _ => throw new TemplateRenderException($"TypeError: bad operand type for abs(): '{PyOps.TypeName(v)}'"),
        },
        ["capitalize"] = (_, v, _) => StringMethods.Capitalize(PyText.ToStr(v)),
        ["default"] = Default,
        ["d"] = Default,
        ["float"] = (_, v, a) => ToFloat(v) ?? a.Get(0, "default", 0.0),
        ["indent"] = Indent,
        ["int"] = (_, v, a) => ToInt(v, a.Get(1, "base", 10L)) ?? a.Get(0, "default", 0L),
        ["lower"] = (_, v, _) => PyText.ToStr(v).ToLowerInvariant(),
        ["replace"] = (_, v, a) => StringMethods.Find(PyText.ToStr(v), "replace")!.Invoke(new CallArgs(
            [a.Get(0, "old", null), a.Get(1, "new", null), a.Get(2, "count", null) ?? -1L], [])),
        ["round"] = Round,
        ["safe"] = (_, v, _) => v,
        ["string"] = (_, v, _) => PyText.ToStr(v),
        ["title"] = (_, v, _) => string.Concat(WordBeginning().Split(PyText.ToStr(v)).Where(p => p.Length > 0)
            .Select(p => char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant())),
        ["tojson"] = ToJson,
        ["trim"] = (_, v, a) => StringMethods.Strip(PyText.ToStr(v), a.Get(0, "chars", null) as string, true, true),
        ["upper"] = (_, v, _) => PyText.ToStr(v).ToUpperInvariant(),
    };

    public static FilterFunc? Find(string name)
    {
        if (s_filters.TryGetValue(name, out var filter))
        {
            return filter;
        }

        return s_sequenceFilters.GetValueOrDefault(name);
    }

    [GeneratedRegex(@"([-\s\(\{\[\<]+)")]
    private static partial Regex WordBeginning();

    private static object? Default(Interpreter _, object? value, CallArgs args)
    {
        var fallback = args.Get(0, "default_value", "");
        var boolean = PyOps.IsTrue(args.Get(1, "boolean", false));
        return value is Undefined || (boolean && !PyOps.IsTrue(value)) ? fallback : value;
    }

    private static object? ToFloat(object? value) => value switch
    {
        double d => d,
        long l => (double)l,
        bool b => b ? 1.0 : 0.0,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    private static object? ToInt(object? value, object? numberBase)
    {
        switch (value)
        {
            case long or bool:
                return value is bool b ? (b ? 1L : 0L) : value;
            case double d when !double.IsNaN(d) && !double.IsInfinity(d):
                return (long)Math.Truncate(d);
            case string s:
                var text = s.Trim().Replace("_", "", StringComparison.Ordinal);
                if (numberBase is 10L && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    return l;
                }

                if (numberBase is 16L && long.TryParse(text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
                {
                    return hex;
                }

                return ToFloat(s) is double f ? (long)Math.Truncate(f) : null;
            default:
                return null;
        }
    }

    private static object? Round(Interpreter _, object? value, CallArgs args)
    {
        var precision = args.Get(0, "precision", 0L) is long p ? (int)p : 0;
        var method = args.Get(1, "method", "common") as string;
        if (value is long or bool && method == "common")
        {
            return value is bool b ? (b ? 1L : 0L) : value;
        }

        var x = PyOps.IsNumber(value) ? PyOps.ToDouble(value) : throw new TemplateRenderException($"TypeError: type {PyOps.TypeName(value)} doesn't define __round__ method");
        var scale = Math.Pow(10, precision);
        return method switch
        {
            "common" => Math.Round(x, Math.Clamp(precision, 0, 15), MidpointRounding.ToEven),
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => throw new TemplateRenderException("FilterArgumentError: method must be common, ceil or floor"),
        };
    }

    private static object? Indent(Interpreter _, object? value, CallArgs args)
    {
        var width = args.Get(0, "width", 4L);
        var indentation = width as string ?? new string(' ', width is long w ? (int)w : 4);
        var first = PyOps.IsTrue(args.Get(1, "first", false));
        var blank = PyOps.IsTrue(args.Get(2, "blank", false));
        var lines = SplitLines(PyText.ToStr(value) + "\n");
        string result;
        if (blank)
        {
            result = string.Join("\n" + indentation, lines);
        }
        else
        {
            result = lines[0];
            if (lines.Count > 1)
            {
                result += "\n" + string.Join("\n", lines.Skip(1).Select(line => line.Length > 0 ? indentation + line : line));
            }
        }

        return first ? indentation + result : result;
    }

    /// <summary>Python's str.splitlines(): no trailing empty line for a final separator.</summary>
    internal static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                lines.Add(s[start..i]);
                if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n')
                {
                    i++;
                }

                start = i + 1;
            }
        }

        if (start < s.Length)
        {
            lines.Add(s[start..]);
        }

        return lines;
    }

    /// <summary>Hugging Face's tojson: json.dumps(x, ensure_ascii=False, indent=indent, separators=..., sort_keys=False).</summary>
    private static object? ToJson(Interpreter _, object? value, CallArgs args)
    {
        args.ExpectAtMost("tojson", 4, "ensure_ascii", "indent", "separators", "sort_keys");
        var indent = args.Get(1, "indent", null) switch
        {
            null => null,
            long n => new string(' ', (int)Math.Max(0, n)),
            string s => s,
            var other => throw new TemplateRenderException($"TypeError: indent must be int or str, not {PyOps.TypeName(other)}"),
        };
        var (item, key) = args.Get(2, "separators", null) switch
        {
            null => (indent is null ? ", " : ",", ": "),
            IReadOnlyList<object?> { Count: 2 } pair when pair[0] is string i && pair[1] is string k => (i, k),
            _ => throw new TemplateRenderException("ValueError: separators must be a (item_separator, key_separator) pair"),
        };
        var options = new PyJson.Options(PyOps.IsTrue(args.Get(0, "ensure_ascii", false)), indent, item, key, PyOps.IsTrue(args.Get(3, "sort_keys", false)));
        return PyJson.Dumps(value, options);
    }
}
