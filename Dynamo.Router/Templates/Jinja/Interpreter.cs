using System.Text;

namespace Dynamo.Router.Templates.Jinja;

/// <summary>Executes a parsed template once. One instance per render, so a compiled template renders concurrently.</summary>
internal sealed partial class Interpreter
{
    private const int MaxCallDepth = 256;

    private readonly StringBuilder _root = new();
    private readonly List<(int Start, int End)> _generationSpans = [];
    private StringBuilder _out;
    private int _depth;
    private int _line;

    public Interpreter(TimeProvider timeProvider)
    {
        _out = _root;
        TimeProvider = timeProvider;
    }

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public TimeProvider TimeProvider { get; }

    public IReadOnlyList<(int Start, int End)> GenerationSpans => _generationSpans;

    public string Run(IReadOnlyList<Stmt> body, Scope globals)
    {
        try
        {
            Execute(body, new Scope(globals));
        }
        catch (TemplateRenderException e) when (e.Line == 0)
        {
            e.Line = _line;
            throw;
        }
        catch (OverflowException)
        {
            throw new TemplateRenderException("OverflowError: integer result out of range", line: _line);
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or FormatException)
        {
            // A value of an unexpected type reached an operation: report it as Python's TypeError would be.
            throw new TemplateRenderException($"TypeError: {e.Message}", line: _line);
        }

        return _root.ToString();
    }

    private Flow Execute(IReadOnlyList<Stmt> body, Scope scope)
    {
        foreach (var stmt in body)
        {
            _line = stmt.Line;
            var flow = ExecuteOne(stmt, scope);
            if (flow != Flow.Normal)
            {
                return flow;
            }
        }

        return Flow.Normal;
    }

    private Flow ExecuteOne(Stmt stmt, Scope scope)
    {
        switch (stmt)
        {
            case TextStmt text:
                _out.Append(text.Text);
                return Flow.Normal;
            case PrintStmt print:
                _out.Append(PyText.ToStr(Eval(print.Value, scope)));
                return Flow.Normal;
            case IfStmt @if:
                foreach (var (test, branch) in @if.Branches)
                {
                    if (PyOps.IsTrue(Eval(test, scope)))
                    {
                        return Execute(branch, scope);
                    }
                }

                return @if.Else is null ? Flow.Normal : Execute(@if.Else, scope);
            case ForStmt loop:
                return ExecuteFor(loop, scope);
            case SetStmt set:
                Assign(set.Target, Eval(set.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStmt block:
                var captured = (object?)Capture(block.Body, scope);
                foreach (var filter in block.Filters)
                {
                    captured = ApplyFilter(filter, captured, scope);
                }

                Assign(block.Target, captured, scope);
                return Flow.Normal;
            case MacroStmt macro:
                scope.Set(macro.Name, new Macro(macro.Name, macro.Parameters, macro.Defaults, macro.Body, scope));
                return Flow.Normal;
            case CallBlockStmt call:
                var caller = new Macro("caller", call.CallerParameters, call.CallerDefaults, call.Body, scope);
                _out.Append(PyText.ToStr(EvalCall(call.Call, scope, caller)));
                return Flow.Normal;
            case FilterBlockStmt filterBlock:
                var value = (object?)Capture(filterBlock.Body, scope);
                foreach (var filter in filterBlock.Filters)
                {
                    value = ApplyFilter(filter, value, scope);
                }

                _out.Append(PyText.ToStr(value));
                return Flow.Normal;
            case GenerationStmt generation:
                var rendered = Capture(generation.Body, scope);
                if (ReferenceEquals(_out, _root))
                {
                    _generationSpans.Add((_root.Length, _root.Length + rendered.Length));
                }

                _out.Append(rendered);
                return Flow.Normal;
            case BreakStmt:
                return Flow.Break;
            case ContinueStmt:
                return Flow.Continue;
            default:
                throw new InvalidOperationException($"unknown statement {stmt.GetType().Name}");
        }
    }

    private Flow ExecuteFor(ForStmt loop, Scope scope)
    {
        var source = Eval(loop.Iter, scope);
        if (source is Undefined)
        {
            source = new List<object?>();
        }

        var items = PyOps.ToList(source);
        if (loop.Filter is not null)
        {
            items = items.Where(item =>
            {
                var filterScope = new Scope(scope);
                Assign(loop.Target, item, filterScope);
                return PyOps.IsTrue(Eval(loop.Filter, filterScope));
            }).ToList();
        }

        var info = new LoopInfo(items);
        for (var i = 0; i < items.Count; i++)
        {
            var iteration = new Scope(scope);
            info.Index0 = i;
            iteration.Set("loop", info);
            Assign(loop.Target, items[i], iteration);
            if (Execute(loop.Body, iteration) == Flow.Break)
            {
                break;
            }
        }

        return items.Count == 0 && loop.Else is not null ? Execute(loop.Else, scope) : Flow.Normal;
    }

    private void Assign(Target target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameTarget name:
                scope.Set(name.Name, value);
                break;
            case TupleTarget tuple:
                var values = PyOps.ToList(value);
                if (values.Count != tuple.Items.Count)
                {
                    throw new TemplateRenderException(values.Count > tuple.Items.Count
                        ? $"ValueError: too many values to unpack (expected {tuple.Items.Count})"
                        : $"ValueError: not enough values to unpack (expected {tuple.Items.Count}, got {values.Count})");
                }

                for (var i = 0; i < values.Count; i++)
                {
                    Assign(tuple.Items[i], values[i], scope);
                }

                break;
            case NamespaceAttrTarget attr:
                if (!scope.TryGet(attr.Namespace, out var ns) || ns is not PyNamespace nsObj)
                {
                    throw new TemplateRenderException("TemplateRuntimeError: cannot assign attribute on non-namespace object");
                }

                nsObj.Attributes[attr.Attr] = value;
                break;
        }
    }

    /// <summary>Renders a body into a string instead of the output (set blocks, filter blocks, macros).</summary>
    private string Capture(IReadOnlyList<Stmt> body, Scope scope)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            Execute(body, scope);
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private string InvokeMacro(Macro macro, CallArgs args, Macro? caller)
    {
        if (args.Positional.Count > macro.Parameters.Count)
        {
            throw new TemplateRenderException($"TypeError: macro '{macro.Name}' takes not more than {macro.Parameters.Count} argument(s)");
        }

        if (++_depth > MaxCallDepth)
        {
            throw new TemplateRenderException("RecursionError: maximum macro call depth exceeded");
        }

        try
        {
            var frame = new Scope(macro.Closure);
            for (var i = 0; i < macro.Parameters.Count; i++)
            {
                var name = macro.Parameters[i];
                var value = args.Has(i, name)
                    ? args.Get(i, name, null)
                    : macro.Defaults[i] is { } fallback ? Eval(fallback, frame) : Undefined.Because($"parameter '{name}' was not provided");
                frame.Set(name, value);
            }

            foreach (var (key, _) in args.Named)
            {
                if (!macro.Parameters.Contains(key))
                {
                    throw new TemplateRenderException($"TypeError: macro '{macro.Name}' takes no keyword argument '{key}'");
                }
            }

            if (caller is not null)
            {
                frame.Set("caller", caller);
            }

            var savedLine = _line;
            var result = Capture(macro.Body, frame);
            _line = savedLine;
            return result;
        }
        finally
        {
            _depth--;
        }
    }
}
