namespace Dynamo.Router.Templates.Jinja;

/// <summary>Filters over sequences. Those that return generators in Jinja return a <see cref="PyIterator"/> here.</summary>
internal static partial class Filters
{
    private static readonly Dictionary<string, FilterFunc> s_sequenceFilters = new(StringComparer.Ordinal)
    {
        ["batch"] = Batch,
        ["count"] = (_, v, _) => (long)PyOps.Length(v),
        ["length"] = (_, v, _) => (long)PyOps.Length(v),
        ["dictsort"] = DictSort,
        ["first"] = (_, v, _) => PyOps.Iterate(v).Take(1).ToList() is [var item] ? item : Undefined.Because("No first item, sequence was empty."),
        ["last"] = (_, v, _) => Last(v),
        ["items"] = (_, v, _) => v switch
        {
            Undefined => Generator([]),
            PyDict d => Generator(d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value]))),
            _ => throw new TemplateRenderException("TypeError: Can only get item pairs from a mapping."),
        },
        ["join"] = (_, v, a) =>
        {
            var attribute = a.Get(1, "attribute", null);
            var items = PyOps.Iterate(v).Select(x => attribute is null ? x : AttributeOf(x, attribute));
            return string.Join(PyText.ToStr(a.Get(0, "d", "")), items.Select(PyText.ToStr));
        },
        ["list"] = (_, v, _) => PyOps.ToList(v),
        ["map"] = Map,
        ["reject"] = (i, v, a) => Select(i, v, a, attribute: false, expected: false),
        ["rejectattr"] = (i, v, a) => Select(i, v, a, attribute: true, expected: false),
        ["select"] = (i, v, a) => Select(i, v, a, attribute: false, expected: true),
        ["selectattr"] = (i, v, a) => Select(i, v, a, attribute: true, expected: true),
        ["reverse"] = (_, v, _) => v switch
        {
            string s => string.Concat(PyOps.ToList(s).Cast<string>().Reverse()),
            List<object?> or PyTuple => new PyIterator("list_reverseiterator", PyOps.ToList(v).AsEnumerable().Reverse().ToList()),
            _ => PyOps.ToList(v).AsEnumerable().Reverse().ToList(),
        },
        ["sort"] = Sort,
        ["unique"] = Unique,
    };

    private static PyIterator Generator(IEnumerable<object?> items) => new("generator", items.ToList());

    private static object? Last(object? value)
    {
        if (value is PyIterator { HasLength: false } or PyDict)
        {
            throw new TemplateRenderException($"TypeError: '{PyOps.TypeName(value)}' object is not reversible");
        }

        var items = PyOps.ToList(value);
        return items.Count > 0 ? items[^1] : Undefined.Because("No last item, sequence was empty.");
    }

    /// <summary>Jinja's attribute getter for map/selectattr/sort: item lookup first, dotted paths, integer parts.</summary>
    private static object? AttributeOf(object? item, object? attribute)
    {
        if (attribute is long index)
        {
            return Members.GetItem(item, index);
        }

        foreach (var part in PyText.ToStr(attribute).Split('.'))
        {
            item = long.TryParse(part, out var n) ? Members.GetItem(item, n) : Members.GetItem(item, part);
        }

        return item;
    }

    private static object? Map(Interpreter interpreter, object? value, CallArgs args)
    {
        if (args.Has(-1, "attribute"))
        {
            var attribute = args.Get(-1, "attribute", null);
            var fallback = args.Get(-1, "default", null);
            var hasDefault = args.Has(-1, "default");
            return Generator(PyOps.Iterate(value).Select(x =>
            {
                var result = AttributeOf(x, attribute);
                return hasDefault && result is Undefined ? fallback : result;
            }));
        }

        if (args.Positional.Count == 0 || args.Positional[0] is not string name)
        {
            throw new TemplateRenderException("FilterArgumentError: map requires a filter name or attribute=");
        }

        var filter = Find(name) ?? throw new TemplateRenderException($"TemplateRuntimeError: No filter named '{name}'.");
        var rest = new CallArgs(args.Positional.Skip(1).ToList(), args.Named);
        return Generator(PyOps.Iterate(value).Select(x => filter(interpreter, x, rest)));
    }

    private static PyIterator Select(Interpreter interpreter, object? value, CallArgs args, bool attribute, bool expected)
    {
        var offset = attribute ? 1 : 0;
        var attr = attribute ? args.Get(0, "attribute", null) : null;
        Func<object?, bool> check = _ => true;
        if (args.Positional.Count > offset)
        {
            var testName = PyText.ToStr(args.Positional[offset]);
            var test = Tests.Find(testName) ?? throw new TemplateRenderException($"TemplateRuntimeError: No test named '{testName}'.");
            var testArgs = new CallArgs(args.Positional.Skip(offset + 1).ToList(), args.Named);
            check = x => test(x, testArgs);
        }
        else
        {
            check = PyOps.IsTrue;
        }

        return Generator(PyOps.Iterate(value).Where(x => check(attribute ? AttributeOf(x, attr) : x) == expected));
    }

    private static object? Batch(Interpreter _, object? value, CallArgs args)
    {
        var size = args.Get(0, "linecount", null) is long n && n > 0 ? (int)n : throw new TemplateRenderException("FilterArgumentError: batch requires a positive linecount");
        var hasFill = args.Has(1, "fill_with") && args.Get(1, "fill_with", null) is not null;
        var fill = args.Get(1, "fill_with", null);
        var batches = new List<object?>();
        foreach (var chunk in PyOps.Iterate(value).Chunk(size))
        {
            var batch = chunk.ToList();
            while (hasFill && batch.Count < size)
            {
                batch.Add(fill);
            }

            batches.Add(batch);
        }

        return Generator(batches);
    }

    private static object? SortKey(object? value, bool caseSensitive) =>
        !caseSensitive && value is string s ? s.ToLowerInvariant() : value;

    private static object? Sort(Interpreter _, object? value, CallArgs args)
    {
        var reverse = PyOps.IsTrue(args.Get(0, "reverse", false));
        var caseSensitive = PyOps.IsTrue(args.Get(1, "case_sensitive", false));
        var attribute = args.Get(2, "attribute", null);
        var items = PyOps.ToList(value);
        var keyed = items.Select(x => (Key: SortKey(attribute is null ? x : AttributeOf(x, attribute), caseSensitive), Item: x)).ToList();
        return StableSort(keyed, reverse);
    }

    private static List<object?> StableSort(List<(object? Key, object? Item)> keyed, bool reverse)
    {
        // Python's sort is stable, and reverse=True keeps equal items in their original order too.
        var indexed = keyed.Select((k, i) => (k.Key, k.Item, Index: i)).ToList();
        indexed.Sort((a, b) =>
        {
            var c = PyOps.Compare(a.Key, b.Key);
            return c != 0 ? (reverse ? -c : c) : a.Index.CompareTo(b.Index);
        });
        return indexed.Select(x => x.Item).ToList();
    }

    private static object? DictSort(Interpreter _, object? value, CallArgs args)
    {
        if (value is not PyDict dict)
        {
            throw new TemplateRenderException("TypeError: dictsort requires a mapping");
        }

        var caseSensitive = PyOps.IsTrue(args.Get(0, "case_sensitive", false));
        var by = args.Get(1, "by", "key") as string;
        var reverse = PyOps.IsTrue(args.Get(2, "reverse", false));
        var keyed = dict.Select(kv => (Key: SortKey(by == "value" ? kv.Value : kv.Key, caseSensitive), Item: (object?)new PyTuple([kv.Key, kv.Value]))).ToList();
        return StableSort(keyed, reverse);
    }

    private static object? Unique(Interpreter _, object? value, CallArgs args)
    {
        var caseSensitive = PyOps.IsTrue(args.Get(0, "case_sensitive", false));
        var attribute = args.Get(1, "attribute", null);
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in PyOps.Iterate(value))
        {
            var key = SortKey(attribute is null ? item : AttributeOf(item, attribute), caseSensitive);
            if (!seen.Exists(s => PyOps.Equal(s, key)))
            {
                seen.Add(key);
                result.Add(item);
            }
        }

        return Generator(result);
    }
}
