namespace Dynamo.Router.Templates.Jinja;

/// <summary>Python semantics for the operations templates rely on: truthiness, equality, ordering, len, iteration.</summary>
internal static class PyOps
{
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        Undefined => "Undefined",
        PyIterator it => it.Kind,
        PyNamespace => "Namespace",
        LoopInfo => "LoopContext",
        _ => "function",
    };

    /// <summary>How Jinja names an object in "'x' has no attribute" messages.</summary>
    public static string ObjectDescription(object? value) => value switch
    {
        null => "None",
        _ => TypeName(value) + " object",
    };

    public static bool IsTrue(object? value) => value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        PyTuple t => t.Count > 0,
        PyDict d => d.Count > 0,
        Undefined => false,
        PyIterator it => !it.HasLength || it.Items.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? value) => value is long or double or bool;

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException("not a number"),
    };

    public static bool Equal(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null):
                return true;
            case (null, _) or (_, null):
                return false;
            case (string x, string y):
                return string.Equals(x, y, StringComparison.Ordinal);
            case (long x, long y):
                return x == y;
            case (bool x, bool y):
                return x == y;
            case var _ when IsNumber(a) && IsNumber(b):
                return ToDouble(a) == ToDouble(b);
            case (List<object?> x, List<object?> y):
                return SequenceEqual(x, y);
            case (PyTuple x, PyTuple y):
                return SequenceEqual(x, y);
            case (PyDict x, PyDict y):
                return x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var other) && Equal(kv.Value, other));
            case (Undefined, Undefined):
                return true;
            default:
                return ReferenceEquals(a, b);
        }
    }

    private static bool SequenceEqual(IReadOnlyList<object?> x, IReadOnlyList<object?> y)
    {
        if (x.Count != y.Count)
        {
            return false;
        }

        for (var i = 0; i < x.Count; i++)
        {
            if (!Equal(x[i], y[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Python ordering; mixing types that Python cannot order is a TypeError.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        switch (a, b)
        {
            case (string x, string y):
                return string.CompareOrdinal(x, y);
            case (long x, long y):
                return x.CompareTo(y);
            case var _ when IsNumber(a) && IsNumber(b):
                return ToDouble(a).CompareTo(ToDouble(b));
            case (List<object?> x, List<object?> y):
                return CompareSequences(x, y, op);
            case (PyTuple x, PyTuple y):
                return CompareSequences(x, y, op);
            case (Undefined u, _):
                throw u.Fail();
            case (_, Undefined u):
                throw u.Fail();
            default:
                throw new TemplateRenderException($"TypeError: '{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
        }
    }

    private static int CompareSequences(IReadOnlyList<object?> x, IReadOnlyList<object?> y, string op)
    {
        for (var i = 0; i < Math.Min(x.Count, y.Count); i++)
        {
            if (!Equal(x[i], y[i]))
            {
                return Compare(x[i], y[i], op);
            }
        }

        return x.Count.CompareTo(y.Count);
    }

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s when item is string sub:
                return s.Contains(sub, StringComparison.Ordinal);
            case string:
                throw new TemplateRenderException($"TypeError: 'in <string>' requires string as left operand, not {TypeName(item)}");
            case PyDict d:
                return item is not null && d.ContainsKey(item);
            case Undefined:
                return false;
            case null or long or double or bool:
                throw new TemplateRenderException($"TypeError: argument of type '{TypeName(container)}' is not iterable");
            default:
                return Iterate(container).Any(x => Equal(x, item));
        }
    }

    public static int Length(object? value) => value switch
    {
        string s => PyText.CodePointCount(s),
        List<object?> list => list.Count,
        PyTuple t => t.Count,
        PyDict d => d.Count,
        Undefined => 0,
        PyIterator { HasLength: true } it => it.Items.Count,
        PyNamespace ns => ns.Attributes.Count,
        _ => throw new TemplateRenderException($"TypeError: object of type '{TypeName(value)}' has no len()"),
    };

    public static IEnumerable<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        PyTuple t => t,
        PyDict d => d.Keys,
        string s => PyText.CodePoints(s),
        PyIterator it => it.Items,
        Undefined => [],
        _ => throw new TemplateRenderException($"TypeError: '{TypeName(value)}' object is not iterable"),
    };

    /// <summary>Materialises an iterable into a list (a snapshot, so loops may not observe later changes).</summary>
    public static List<object?> ToList(object? value) => [.. Iterate(value)];
}
