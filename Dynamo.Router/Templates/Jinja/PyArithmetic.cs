namespace Dynamo.Router.Templates.Jinja;

/// <summary>Python's binary and unary operators on template values (bool counts as int, / is true division).</summary>
internal static class PyArithmetic
{
    public static object? Binary(string op, object? a, object? b)
    {
        if (a is Undefined ua)
        {
            throw ua.Fail();
        }

        if (b is Undefined ub)
        {
            throw ub.Fail();
        }

        return op switch
        {
            "+" => Add(a, b),
            "-" => Numeric(op, a, b, (x, y) => checked(x - y), (x, y) => x - y),
            "*" => Multiply(a, b),
            "/" => PyOps.IsNumber(a) && PyOps.IsNumber(b) ? Divide(PyOps.ToDouble(a), PyOps.ToDouble(b)) : throw Unsupported(op, a, b),
            "//" => Numeric(op, a, b, FloorDiv, (x, y) => Math.Floor(Divide(x, y))),
            "%" => Numeric(op, a, b, Modulo, FloatModulo),
            "**" => Power(a, b),
            _ => throw new InvalidOperationException($"unknown operator {op}"),
        };
    }

    public static object? Negate(object? value) => value switch
    {
        long l => checked(-l),
        bool b => b ? -1L : 0L,
        double d => (object)-d,
        Undefined u => throw u.Fail(),
        _ => throw new TemplateRenderException($"TypeError: bad operand type for unary -: '{PyOps.TypeName(value)}'"),
    };

    public static object? Plus(object? value) => value switch
    {
        long or double => value,
        bool b => (object)(b ? 1L : 0L),
        Undefined u => throw u.Fail(),
        _ => throw new TemplateRenderException($"TypeError: bad operand type for unary +: '{PyOps.TypeName(value)}'"),
    };

    private static object? Add(object? a, object? b)
    {
        switch (a, b)
        {
            case (string x, string y):
                return x + y;
            case (List<object?> x, List<object?> y):
                return (List<object?>)[.. x, .. y];
            case (PyTuple x, PyTuple y):
                return new PyTuple([.. x.Items, .. y.Items]);
            case (string, _):
                throw new TemplateRenderException($"TypeError: can only concatenate str (not \"{PyOps.TypeName(b)}\") to str");
            case (List<object?>, _):
                throw new TemplateRenderException($"TypeError: can only concatenate list (not \"{PyOps.TypeName(b)}\") to list");
            default:
                return Numeric("+", a, b, (x, y) => checked(x + y), (x, y) => x + y);
        }
    }

    private static object? Multiply(object? a, object? b)
    {
        switch (a, b)
        {
            case (string s, long or bool):
                return Repeat(s, AsLong(b));
            case (long or bool, string s):
                return Repeat(s, AsLong(a));
            case (List<object?> list, long or bool):
                var n = CheckSize(AsLong(b), list.Count);
                var result = new List<object?>();
                for (var i = 0; i < n; i++)
                {
                    result.AddRange(list);
                }

                return result;
            default:
                return Numeric("*", a, b, (x, y) => checked(x * y), (x, y) => x * y);
        }
    }

    private static string Repeat(string s, long n) => n <= 0 ? "" : string.Concat(Enumerable.Repeat(s, (int)CheckSize(n, s.Length)));

    // A prompt template has no business building huge values; fail cleanly instead of exhausting memory.
    private static long CheckSize(long count, int itemSize) =>
        count * Math.Max(1, itemSize) > 10_000_000 ? throw new TemplateRenderException("MemoryError: repetition result too large") : count;

    private static object Numeric(string op, object? a, object? b, Func<long, long, long> ints, Func<double, double, double> floats)
    {
        if (a is (long or bool) && b is (long or bool))
        {
            return ints(AsLong(a), AsLong(b));
        }

        if (PyOps.IsNumber(a) && PyOps.IsNumber(b))
        {
            return floats(PyOps.ToDouble(a), PyOps.ToDouble(b));
        }

        throw Unsupported(op, a, b);
    }

    private static long AsLong(object? value) => value is bool b ? (b ? 1 : 0) : (long)value!;

    private static double Divide(double x, double y) =>
        y == 0 ? throw new TemplateRenderException("ZeroDivisionError: division by zero") : x / y;

    private static long FloorDiv(long x, long y)
    {
        if (y == 0)
        {
            throw new TemplateRenderException("ZeroDivisionError: integer division or modulo by zero");
        }

        var q = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
    }

    private static long Modulo(long x, long y)
    {
        if (y == 0)
        {
            throw new TemplateRenderException("ZeroDivisionError: integer division or modulo by zero");
        }

        var m = x % y;
        return m != 0 && ((m < 0) != (y < 0)) ? m + y : m;
    }

    private static double FloatModulo(double x, double y)
    {
        if (y == 0)
        {
            throw new TemplateRenderException("ZeroDivisionError: float modulo");
        }

        var m = x % y;
        return m != 0 && ((m < 0) != (y < 0)) ? m + y : m;
    }

    private static object Power(object? a, object? b)
    {
        if (a is (long or bool) && b is (long or bool) && AsLong(b) >= 0)
        {
            long result = 1;
            var x = AsLong(a);
            for (var i = AsLong(b); i > 0; i--)
            {
                result = checked(result * x);
            }

            return result;
        }

        return PyOps.IsNumber(a) && PyOps.IsNumber(b) ? Math.Pow(PyOps.ToDouble(a), PyOps.ToDouble(b)) : throw Unsupported("** or pow()", a, b);
    }

    private static TemplateRenderException Unsupported(string op, object? a, object? b) =>
        new($"TypeError: unsupported operand type(s) for {op}: '{PyOps.TypeName(a)}' and '{PyOps.TypeName(b)}'");
}
