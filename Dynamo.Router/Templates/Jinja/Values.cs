using System.Collections;

namespace Dynamo.Router.Templates.Jinja;

// The value model: Python's None is C# null; bool, long (int), double (float) and string map directly; a Python
// list is List<object?>; the types below cover the rest.

/// <summary>Jinja's default Undefined: prints as empty, is falsy and iterates as empty; any other use fails.</summary>
internal sealed class Undefined
{
    private Undefined(string message) => Message = message;

    /// <summary>The UndefinedError message Jinja would raise when this value is used.</summary>
    public string Message { get; }

    public static Undefined Name(string name) => new($"'{name}' is undefined");

    public static Undefined Attribute(object? owner, string attr) => new($"'{PyOps.ObjectDescription(owner)}' has no attribute '{attr}'");

    public static Undefined Item(object? owner, object? key) => new($"'{PyOps.ObjectDescription(owner)}' has no attribute '{PyText.ToStr(key)}'");

    public static Undefined Because(string message) => new(message);

    public TemplateRenderException Fail() => new("UndefinedError: " + Message);
}

internal sealed class PyTuple(object?[] items) : IReadOnlyList<object?>
{
    public object?[] Items { get; } = items;

    public int Count => Items.Length;

    public object? this[int index] => Items[index];

    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => Items.GetEnumerator();
}

/// <summary>An insertion-ordered dict with Python key equality (1 == 1.0 == True).</summary>
internal sealed class PyDict : OrderedDictionary<object, object?>
{
    public PyDict()
        : base(PyKeyComparer.Instance)
    {
    }
}

/// <summary>
/// A lazily-iterated Python object (a generator from select/map, a dict view, a reversed iterator). Kept distinct
/// from lists because Python treats them differently: generators have no len() and are always truthy.
/// </summary>
internal sealed class PyIterator(string kind, IReadOnlyList<object?> items, bool hasLength = false)
{
    public string Kind { get; } = kind;

    public IReadOnlyList<object?> Items { get; } = items;

    public bool HasLength { get; } = hasLength;
}

/// <summary>Jinja's namespace(): the one object a template may assign attributes on.</summary>
internal sealed class PyNamespace
{
    public PyDict Attributes { get; } = new();
}

internal delegate object? PyFunc(CallArgs args);

internal sealed class PyFunction(string name, PyFunc body)
{
    public string Name { get; } = name;

    public object? Invoke(CallArgs args) => body(args);
}

internal sealed class CallArgs(List<object?> positional, List<KeyValuePair<string, object?>> named)
{
    public static readonly CallArgs Empty = new([], []);

    public List<object?> Positional { get; } = positional;

    public List<KeyValuePair<string, object?>> Named { get; } = named;

    /// <summary>Argument by position or keyword, as a Python signature binds it.</summary>
    public object? Get(int position, string name, object? fallback)
    {
        foreach (var (key, value) in Named)
        {
            if (key == name)
            {
                return value;
            }
        }

        return position >= 0 && position < Positional.Count ? Positional[position] : fallback;
    }

    public bool Has(int position, string name) => (position >= 0 && position < Positional.Count) || Named.Exists(n => n.Key == name);

    public void ExpectAtMost(string function, int positional, params string[] names)
    {
        if (Positional.Count > positional)
        {
            throw new TemplateRenderException($"TypeError: {function}() takes at most {positional} positional arguments ({Positional.Count} given)");
        }

        foreach (var (key, _) in Named)
        {
            if (Array.IndexOf(names, key) < 0)
            {
                throw new TemplateRenderException($"TypeError: {function}() got an unexpected keyword argument '{key}'");
            }
        }
    }
}

internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => PyOps.Equal(x, y);

    public int GetHashCode(object obj) => obj switch
    {
        string s => StringComparer.Ordinal.GetHashCode(s),
        bool b => (b ? 1L : 0L).GetHashCode(),
        long l => l.GetHashCode(),
        double d when d == Math.Floor(d) && Math.Abs(d) < 9.2e18 => ((long)d).GetHashCode(),
        double d => d.GetHashCode(),
        PyTuple t => t.Items.Aggregate(17, (h, item) => HashCode.Combine(h, item is null ? 0 : GetHashCode(item))),
        _ => throw new TemplateRenderException($"TypeError: unhashable type: '{PyOps.TypeName(obj)}'"),
    };
}
