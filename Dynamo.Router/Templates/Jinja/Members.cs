namespace Dynamo.Router.Templates.Jinja;

/// <summary>
/// Attribute and item lookup as Jinja's sandbox does it: <c>a.b</c> tries the Python attribute (a method) and then the
/// item, <c>a[b]</c> the item and then the attribute; anything missing is Undefined rather than an error.
/// </summary>
internal static class Members
{
    // The immutable sandbox HF uses refuses these (SecurityError); templates must build new values instead.
    private static readonly HashSet<string> s_listMutators = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"];
    private static readonly HashSet<string> s_dictMutators = ["update", "pop", "popitem", "setdefault", "clear"];

    private static PyFunction Unsafe(object? target, string name) => new(name, _ =>
        throw new TemplateRenderException($"SecurityError: access to attribute '{name}' of '{PyOps.TypeName(target)}' object is unsafe."));

    public static object? GetAttr(object? target, string name)
    {
        switch (target)
        {
            case Undefined u:
                throw u.Fail();
            case PyDict dict when s_dictMutators.Contains(name):
                return Unsafe(dict, name);
            case PyDict dict:
                return (object?)DictMethod(dict, name) ?? (dict.TryGetValue(name, out var value) ? value : Undefined.Attribute(dict, name));
            case string s:
                return (object?)StringMethods.Find(s, name) ?? Undefined.Attribute(s, name);
            case PyNamespace ns:
                return ns.Attributes.TryGetValue(name, out var attr) ? attr : Undefined.Attribute(ns, name);
            case LoopInfo loop:
                return loop.Get(name);
            case List<object?> or PyTuple when s_listMutators.Contains(name):
                return Unsafe(target, name);
            default:
                return Undefined.Attribute(target, name);
        }
    }

    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case Undefined u:
                throw u.Fail();
            case PyDict dict:
                if (key is not null and not Undefined && dict.TryGetValue(key, out var value))
                {
                    return value;
                }

                return key is string name ? GetAttr(dict, name) : Undefined.Item(dict, key);
            case List<object?> or PyTuple or string when key is long or bool:
                var items = target is string s ? PyOps.ToList(s) : (IReadOnlyList<object?>)target;
                var index = key is bool b ? (b ? 1 : 0) : (long)key;
                if (index < 0)
                {
                    index += items.Count;
                }

                return index >= 0 && index < items.Count ? items[(int)index] : Undefined.Item(target, key);
            case PyNamespace or LoopInfo when key is string attr:
                return GetAttr(target, attr);
            default:
                return key is string str && target is string ? GetAttr(target, str) : Undefined.Item(target, key);
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is Undefined u)
        {
            throw u.Fail();
        }

        IReadOnlyList<object?> items = target switch
        {
            List<object?> list => list,
            PyTuple t => t,
            string s => PyOps.ToList(s),
            _ => throw new TemplateRenderException($"TypeError: '{PyOps.TypeName(target)}' object is not subscriptable"),
        };
        var selected = SliceIndices(items.Count, start, stop, step).Select(i => items[i]).ToList();
        return target switch
        {
            string => string.Concat(selected.Cast<string>()),
            PyTuple => new PyTuple([.. selected]),
            _ => selected,
        };
    }

    /// <summary>Python's slice.indices: clamps, handles negatives and a negative step.</summary>
    private static IEnumerable<int> SliceIndices(int length, object? start, object? stop, object? step)
    {
        var st = step is null ? 1 : ToIndex(step);
        if (st == 0)
        {
            throw new TemplateRenderException("ValueError: slice step cannot be zero");
        }

        int Clamp(object? value, int whenNone, int low, int high)
        {
            if (value is null)
            {
                return whenNone;
            }

            var i = ToIndex(value);
            if (i < 0)
            {
                i += length;
            }

            return Math.Clamp(i, low, high);
        }

        var from = st > 0 ? Clamp(start, 0, 0, length) : Clamp(start, length - 1, -1, length - 1);
        var to = st > 0 ? Clamp(stop, length, 0, length) : Clamp(stop, -1, -1, length - 1);
        for (var i = from; st > 0 ? i < to : i > to; i += st)
        {
            yield return i;
        }
    }

    private static int ToIndex(object value) => value switch
    {
        long l => (int)Math.Clamp(l, int.MinValue / 2, int.MaxValue / 2),
        bool b => b ? 1 : 0,
        _ => throw new TemplateRenderException("TypeError: slice indices must be integers or None"),
    };

    private static PyFunction? DictMethod(PyDict dict, string name) => name switch
    {
        "items" => new PyFunction("items", _ => new PyIterator("dict_items", dict.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList(), hasLength: true)),
        "keys" => new PyFunction("keys", _ => new PyIterator("dict_keys", dict.Keys.Cast<object?>().ToList(), hasLength: true)),
        "values" => new PyFunction("values", _ => new PyIterator("dict_values", dict.Values.ToList(), hasLength: true)),
        "get" => new PyFunction("get", args =>
        {
            var key = args.Get(0, "key", null);
            return key is not null && dict.TryGetValue(key, out var value) ? value : args.Get(1, "default", null);
        }),
        _ => null,
    };
}
