using System.Globalization;
using System.Text;

namespace Dynamo.Router.Templates.Jinja;

/// <summary>The Python str methods chat templates call (<c>content.split('&lt;/think&gt;')[-1].lstrip('\n')</c> and friends).</summary>
internal static class StringMethods
{
    public static PyFunction? Find(string s, string name) => name switch
    {
        "strip" => new(name, a => Strip(s, Chars(a), true, true)),
        "lstrip" => new(name, a => Strip(s, Chars(a), true, false)),
        "rstrip" => new(name, a => Strip(s, Chars(a), false, true)),
        "split" => new(name, a => Split(s, a.Get(0, "sep", null), ToInt(a.Get(1, "maxsplit", -1L)))),
        "rsplit" => new(name, a => RSplit(s, a.Get(0, "sep", null), ToInt(a.Get(1, "maxsplit", -1L)))),
        "splitlines" => new(name, _ => Filters.SplitLines(s).Cast<object?>().ToList()),
        "startswith" => new(name, a => Affix(a.Get(0, "prefix", null)).Any(p => s.StartsWith(p, StringComparison.Ordinal))),
        "endswith" => new(name, a => Affix(a.Get(0, "suffix", null)).Any(p => s.EndsWith(p, StringComparison.Ordinal))),
        "replace" => new(name, a => Replace(s, Str(a.Get(0, "old", null)), Str(a.Get(1, "new", null)), ToInt(a.Get(2, "count", -1L)))),
        "upper" => new(name, _ => s.ToUpperInvariant()),
        "lower" => new(name, _ => s.ToLowerInvariant()),
        "title" => new(name, _ => Title(s)),
        "capitalize" => new(name, _ => Capitalize(s)),
        "swapcase" => new(name, _ => string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)))),
        "find" => new(name, a => (long)IndexToCodePoints(s, s.IndexOf(Str(a.Get(0, "sub", null)), StringComparison.Ordinal))),
        "rfind" => new(name, a => (long)IndexToCodePoints(s, s.LastIndexOf(Str(a.Get(0, "sub", null)), StringComparison.Ordinal))),
        "count" => new(name, a => (long)CountOccurrences(s, Str(a.Get(0, "sub", null)))),
        "join" => new(name, a => string.Join(s, PyOps.Iterate(a.Get(0, "iterable", null)).Select(x => x as string
            ?? throw new TemplateRenderException($"TypeError: sequence item: expected str instance, {PyOps.TypeName(x)} found")))),
        "format" => new(name, a => Format(s, a)),
        "isdigit" => new(name, _ => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => new(name, _ => s.Length > 0 && s.All(char.IsLetter)),
        "isalnum" => new(name, _ => s.Length > 0 && s.All(char.IsLetterOrDigit)),
        "isspace" => new(name, _ => s.Length > 0 && s.All(PyText.IsSpace)),
        "islower" => new(name, _ => s.Any(char.IsLower) && !s.Any(char.IsUpper)),
        "isupper" => new(name, _ => s.Any(char.IsUpper) && !s.Any(char.IsLower)),
        _ => null,
    };

    private static string? Chars(CallArgs a) => a.Get(0, "chars", null) switch
    {
        null => null,
        string chars => chars,
        var other => throw new TemplateRenderException($"TypeError: strip arg must be None or str, not {PyOps.TypeName(other)}"),
    };

    private static string Str(object? value) => value as string
        ?? throw new TemplateRenderException($"TypeError: must be str, not {PyOps.TypeName(value)}");

    private static int ToInt(object? value) => value is long l ? (int)l : throw new TemplateRenderException($"TypeError: an integer is required, not {PyOps.TypeName(value)}");

    private static IEnumerable<string> Affix(object? value) => value switch
    {
        string s => [s],
        PyTuple t => t.Select(Str),
        _ => throw new TemplateRenderException($"TypeError: startswith first arg must be str or a tuple of str, not {PyOps.TypeName(value)}"),
    };

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        Func<char, bool> strip = chars is null ? PyText.IsSpace : c => chars.Contains(c, StringComparison.Ordinal);
        var start = 0;
        var end = s.Length;
        while (left && start < end && strip(s[start]))
        {
            start++;
        }

        while (right && end > start && strip(s[end - 1]))
        {
            end--;
        }

        return s[start..end];
    }

    private static List<object?> Split(string s, object? sep, int maxSplit)
    {
        if (sep is null)
        {
            var words = new List<object?>();
            var i = 0;
            while (true)
            {
                while (i < s.Length && PyText.IsSpace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    return words;
                }

                if (maxSplit >= 0 && words.Count == maxSplit)
                {
                    words.Add(s[i..].TrimEnd());
                    return words;
                }

                var start = i;
                while (i < s.Length && !PyText.IsSpace(s[i]))
                {
                    i++;
                }

                words.Add(s[start..i]);
            }
        }

        var separator = Str(sep);
        if (separator.Length == 0)
        {
            throw new TemplateRenderException("ValueError: empty separator");
        }

        var parts = maxSplit < 0 ? s.Split(separator) : s.Split(separator, maxSplit + 1);
        return parts.Select(p => (object?)p).ToList();
    }

    private static List<object?> RSplit(string s, object? sep, int maxSplit)
    {
        if (maxSplit < 0)
        {
            return Split(s, sep, -1);
        }

        var separator = Str(sep);
        var parts = new List<object?>();
        var end = s.Length;
        while (parts.Count < maxSplit)
        {
            var at = end == 0 ? -1 : s.LastIndexOf(separator, end - 1, StringComparison.Ordinal);
            if (at < 0 || at + separator.Length > end)
            {
                break;
            }

            parts.Insert(0, s[(at + separator.Length)..end]);
            end = at;
        }

        parts.Insert(0, s[..end]);
        return parts;
    }

    private static string Replace(string s, string old, string replacement, int count)
    {
        if (count < 0)
        {
            return old.Length == 0 ? string.Join(replacement, ["", .. PyOps.ToList(s).Cast<string>(), ""]) : s.Replace(old, replacement, StringComparison.Ordinal);
        }

        var sb = new StringBuilder();
        var pos = 0;
        for (var n = 0; n < count && old.Length > 0; n++)
        {
            var at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            sb.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
        }

        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousCased = false;
        foreach (var c in s)
        {
            sb.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsUpper(c) || char.IsLower(c);
        }

        return sb.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static int IndexToCodePoints(string s, int utf16Index) =>
        utf16Index < 0 ? -1 : PyText.CodePointCount(s[..utf16Index]);

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0)
        {
            return PyText.CodePointCount(s) + 1;
        }

        var count = 0;
        for (var at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>str.format with automatic, positional and named fields; format specs are not supported.</summary>
    private static string Format(string s, CallArgs args)
    {
        var sb = new StringBuilder();
        var auto = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if ((c == '{' || c == '}') && i + 1 < s.Length && s[i + 1] == c)
            {
                sb.Append(c);
                i++;
                continue;
            }

            if (c != '{')
            {
                sb.Append(c);
                continue;
            }

            var close = s.IndexOf('}', i);
            if (close < 0)
            {
                throw new TemplateRenderException("ValueError: Single '{' encountered in format string");
            }

            var field = s[(i + 1)..close];
            if (field.Contains(':', StringComparison.Ordinal) || field.Contains('!', StringComparison.Ordinal))
            {
                throw new TemplateRenderException($"unsupported format field '{{{field}}}' in str.format");
            }

            object? value;
            if (field.Length == 0 || int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                var index = field.Length == 0 ? auto++ : int.Parse(field, CultureInfo.InvariantCulture);
                value = index < args.Positional.Count ? args.Positional[index] : throw new TemplateRenderException($"IndexError: Replacement index {index} out of range for positional args tuple");
            }
            else
            {
                var named = args.Named.FindIndex(n => n.Key == field);
                value = named >= 0 ? args.Named[named].Value : throw new TemplateRenderException($"KeyError: '{field}'");
            }

            sb.Append(PyText.ToStr(value));
            i = close;
        }

        return sb.ToString();
    }
}
