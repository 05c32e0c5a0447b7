namespace Dynamo.Router.Templates.Jinja;

/// <summary>Expression evaluation.</summary>
internal sealed partial class Interpreter
{
    private object? Eval(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case LiteralExpr literal:
                return literal.Value;
            case NameExpr name:
                return scope.TryGet(name.Name, out var value) ? value : Undefined.Name(name.Name);
            case ListExpr list:
                return list.Items.Select(item => Eval(item, scope)).ToList();
            case TupleExpr tuple:
                return new PyTuple([.. tuple.Items.Select(item => Eval(item, scope))]);
            case DictExpr dict:
                var result = new PyDict();
                foreach (var (k, v) in dict.Items)
                {
                    var key = Eval(k, scope) ?? throw new TemplateRenderException("TypeError: None is not supported as a dict key here");
                    result[key] = Eval(v, scope);
                }

                return result;
            case AttrExpr attr:
                return Members.GetAttr(Eval(attr.Target, scope), attr.Attr);
            case ItemExpr item:
                return item.Index is SliceExpr slice
                    ? Members.Slice(Eval(item.Target, scope), EvalOptional(slice.Start, scope), EvalOptional(slice.Stop, scope), EvalOptional(slice.Step, scope))
                    : Members.GetItem(Eval(item.Target, scope), Eval(item.Index, scope));
            case UnaryExpr unary:
                var operand = Eval(unary.Operand, scope);
                return unary.Op switch
                {
                    "not" => !PyOps.IsTrue(operand),
                    "-" => PyArithmetic.Negate(operand),
                    _ => PyArithmetic.Plus(operand),
                };
            case BinaryExpr binary:
                return EvalBinary(binary, scope);
            case CompareExpr compare:
                return EvalCompare(compare, scope);
            case CondExpr cond:
                return PyOps.IsTrue(Eval(cond.Test, scope))
                    ? Eval(cond.Then, scope)
                    : cond.Else is null ? Undefined.Because("the inline if-expression on line " + cond.Line + " evaluated to false and no else section was defined.") : Eval(cond.Else, scope);
            case CallExpr call:
                return EvalCall(call, scope, caller: null);
            case FilterExpr filter:
                return ApplyFilter(filter, Eval(filter.Value!, scope), scope);
            case TestExpr test:
                var passed = test.Impl(Eval(test.Value, scope), EvalArgs(test.Args, scope));
                return test.Negated ? !passed : passed;
            default:
                throw new InvalidOperationException($"unknown expression {expr.GetType().Name}");
        }
    }

    private object? EvalOptional(Expr? expr, Scope scope) => expr is null ? null : Eval(expr, scope);

    private object? EvalBinary(BinaryExpr binary, Scope scope)
    {
        var left = Eval(binary.Left, scope);
        switch (binary.Op)
        {
            case "and":
                return PyOps.IsTrue(left) ? Eval(binary.Right, scope) : left;
            case "or":
                return PyOps.IsTrue(left) ? left : Eval(binary.Right, scope);
            case "~":
                return PyText.ToStr(left) + PyText.ToStr(Eval(binary.Right, scope));
            default:
                return PyArithmetic.Binary(binary.Op, left, Eval(binary.Right, scope));
        }
    }

    private bool EvalCompare(CompareExpr compare, Scope scope)
    {
        var left = Eval(compare.First, scope);
        foreach (var (op, rightExpr) in compare.Rest)
        {
            var right = Eval(rightExpr, scope);
            var ok = op switch
            {
                "==" => PyOps.Equal(left, right),
                "!=" => !PyOps.Equal(left, right),
                "in" => PyOps.Contains(right, left),
                "not in" => !PyOps.Contains(right, left),
                "<" => PyOps.Compare(left, right, op) < 0,
                "<=" => PyOps.Compare(left, right, op) <= 0,
                ">" => PyOps.Compare(left, right, op) > 0,
                _ => PyOps.Compare(left, right, op) >= 0,
            };
            if (!ok)
            {
                return false;
            }

            left = right;
        }

        return true;
    }

    private object? EvalCall(CallExpr call, Scope scope, Macro? caller)
    {
        var callee = Eval(call.Callee, scope);
        var args = EvalArgs(call.Args, scope);
        return callee is Macro macro ? InvokeMacro(macro, args, caller) : CallValue(callee, args);
    }

    private CallArgs EvalArgs(Arguments args, Scope scope)
    {
        if (args.Positional.Count == 0 && args.Named.Count == 0)
        {
            return CallArgs.Empty;
        }

        return new CallArgs(
            args.Positional.Select(a => Eval(a, scope)).ToList(),
            args.Named.Select(n => new KeyValuePair<string, object?>(n.Key, Eval(n.Value, scope))).ToList());
    }

    private object? ApplyFilter(FilterExpr filter, object? value, Scope scope) => filter.Impl(this, value, EvalArgs(filter.Args, scope));

    /// <summary>Calls a template value (a macro or function) from a filter such as map.</summary>
    internal object? CallValue(object? callee, CallArgs args) => callee switch
    {
        Macro macro => InvokeMacro(macro, args, null),
        PyFunction function => function.Invoke(args),
        GlobalFunction global => global(this, args),
        Undefined u => throw u.Fail(),
        _ => throw new TemplateRenderException($"TypeError: '{PyOps.TypeName(callee)}' object is not callable"),
    };
}

/// <summary>A global such as raise_exception or strftime_now; gets the interpreter for the injected clock.</summary>
internal delegate object? GlobalFunction(Interpreter interpreter, CallArgs args);

internal delegate object? FilterFunc(Interpreter interpreter, object? value, CallArgs args);

internal delegate bool TestFunc(object? value, CallArgs args);
