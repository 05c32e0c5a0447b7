namespace Dynamo.Router.Templates.Jinja;

/// <summary>Global functions: Jinja's range/namespace/dict plus Hugging Face's raise_exception and strftime_now.</summary>
internal static class Globals
{
    public static void AddTo(Scope scope)
    {
        scope.Set("range", new GlobalFunction(Range));
        scope.Set("namespace", new GlobalFunction(Namespace));
        scope.Set("dict", new GlobalFunction(Dict));
        scope.Set("raise_exception", new GlobalFunction((_, args) =>
            throw new TemplateRenderException(PyText.ToStr(args.Get(0, "message", "")), raisedByTemplate: true)));
        scope.Set("strftime_now", new GlobalFunction((interpreter, args) =>
            Strftime.Format(interpreter.TimeProvider.GetLocalNow().DateTime, PyText.ToStr(args.Get(0, "format", "")))));
    }

    private static object? Range(Interpreter _, CallArgs args)
    {
        var numbers = args.Positional.Select(a => a is long l ? l : a is bool b ? (b ? 1 : 0)
            : throw new TemplateRenderException($"TypeError: '{PyOps.TypeName(a)}' object cannot be interpreted as an integer")).ToList();
        var (start, stop, step) = numbers.Count switch
        {
            1 => (0L, numbers[0], 1L),
            2 => (numbers[0], numbers[1], 1L),
            3 => (numbers[0], numbers[1], numbers[2]),
            _ => throw new TemplateRenderException($"TypeError: range expected 1 to 3 arguments, got {numbers.Count}"),
        };
        if (step == 0)
        {
            throw new TemplateRenderException("ValueError: range() arg 3 must not be zero");
        }

        // The sandbox caps ranges at 100000 items (MAX_RANGE) to keep templates from exhausting memory.
        var count = step > 0 ? Math.Max(0, (stop - start + step - 1) / step) : Math.Max(0, (start - stop - step - 1) / -step);
        if (count > 100_000)
        {
            throw new TemplateRenderException("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
        }

        var items = new List<object?>((int)count);
        for (var i = 0L; i < count; i++)
        {
            items.Add(start + (i * step));
        }

        return items;
    }

    private static object? Namespace(Interpreter _, CallArgs args)
    {
        var ns = new PyNamespace();
        foreach (var positional in args.Positional)
        {
            if (positional is not PyDict initial)
            {
                throw new TemplateRenderException("TypeError: namespace() positional argument must be a mapping");
            }

            foreach (var (k, v) in initial)
            {
                ns.Attributes[k] = v;
            }
        }

        foreach (var (k, v) in args.Named)
        {
            ns.Attributes[k] = v;
        }

        return ns;
    }

    private static object? Dict(Interpreter _, CallArgs args)
    {
        var dict = new PyDict();
        if (args.Positional is [PyDict initial])
        {
            foreach (var (k, v) in initial)
            {
                dict[k] = v;
            }
        }
        else if (args.Positional.Count > 0)
        {
            throw new TemplateRenderException("TypeError: dict() positional argument must be a mapping");
        }

        foreach (var (k, v) in args.Named)
        {
            dict[k] = v;
        }

        return dict;
    }
}
