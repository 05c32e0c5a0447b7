namespace Dynamo.Router.Templates.Jinja;

/// <summary>
/// Load-time checks beyond the grammar: a call to a name that is neither a supported global, a macro, nor a variable
/// the template assigns can only fail at render (Jinja's cycler/joiner/lipsum, custom helpers from other engines), so
/// it is rejected here, when the model loads.
/// </summary>
internal static class Validator
{
    private static readonly HashSet<string> s_globals = ["range", "namespace", "dict", "raise_exception", "strftime_now", "caller"];

    public static void Validate(IReadOnlyList<Stmt> body)
    {
        var known = new HashSet<string>(s_globals, StringComparer.Ordinal);
        CollectNames(body, known);
        var calls = new List<CallExpr>();
        foreach (var stmt in body)
        {
            CollectCalls(stmt, calls);
        }

        foreach (var call in calls)
        {
            if (call.Callee is NameExpr name && !known.Contains(name.Name))
            {
                throw new TemplateException($"unsupported function '{name.Name}'", name.Line, name.Column);
            }
        }
    }

    private static void CollectNames(IReadOnlyList<Stmt> body, HashSet<string> names)
    {
        foreach (var stmt in body)
        {
            switch (stmt)
            {
                case SetStmt set: AddTarget(set.Target, names); break;
                case SetBlockStmt block: AddTarget(block.Target, names); CollectNames(block.Body, names); break;
                case ForStmt loop: AddTarget(loop.Target, names); CollectNames(loop.Body, names); CollectNames(loop.Else ?? [], names); break;
                case MacroStmt macro: names.Add(macro.Name); names.UnionWith(macro.Parameters); CollectNames(macro.Body, names); break;
                case CallBlockStmt call: names.UnionWith(call.CallerParameters); CollectNames(call.Body, names); break;
                case IfStmt @if:
                    foreach (var (_, branch) in @if.Branches)
                    {
                        CollectNames(branch, names);
                    }

                    CollectNames(@if.Else ?? [], names);
                    break;
                case FilterBlockStmt filter: CollectNames(filter.Body, names); break;
                case GenerationStmt generation: CollectNames(generation.Body, names); break;
            }
        }
    }

    private static void AddTarget(Target target, HashSet<string> names)
    {
        switch (target)
        {
            case NameTarget name: names.Add(name.Name); break;
            case TupleTarget tuple: tuple.Items.ToList().ForEach(t => AddTarget(t, names)); break;
        }
    }

    private static void CollectCalls(Node node, List<CallExpr> calls)
    {
        switch (node)
        {
            case CallExpr call:
                calls.Add(call);
                CollectCalls(call.Callee, calls);
                CollectArgs(call.Args, calls);
                break;
            case PrintStmt print: CollectCalls(print.Value, calls); break;
            case IfStmt @if:
                foreach (var (test, branch) in @if.Branches)
                {
                    CollectCalls(test, calls);
                    CollectAll(branch, calls);
                }

                CollectAll(@if.Else ?? [], calls);
                break;
            case ForStmt loop:
                CollectCalls(loop.Iter, calls);
                CollectOptional(loop.Filter, calls);
                CollectAll(loop.Body, calls);
                CollectAll(loop.Else ?? [], calls);
                break;
            case SetStmt set: CollectCalls(set.Value, calls); break;
            case SetBlockStmt block: CollectAll(block.Filters, calls); CollectAll(block.Body, calls); break;
            case MacroStmt macro: CollectAll(macro.Defaults.OfType<Expr>().ToList(), calls); CollectAll(macro.Body, calls); break;
            case CallBlockStmt callBlock: CollectCalls(callBlock.Call, calls); CollectAll(callBlock.Body, calls); break;
            case FilterBlockStmt filterBlock: CollectAll(filterBlock.Filters, calls); CollectAll(filterBlock.Body, calls); break;
            case GenerationStmt generation: CollectAll(generation.Body, calls); break;
            case ListExpr list: CollectAll(list.Items, calls); break;
            case TupleExpr tuple: CollectAll(tuple.Items, calls); break;
            case DictExpr dict:
                foreach (var (k, v) in dict.Items)
                {
                    CollectCalls(k, calls);
                    CollectCalls(v, calls);
                }

                break;
            case AttrExpr attr: CollectCalls(attr.Target, calls); break;
            case ItemExpr item: CollectCalls(item.Target, calls); CollectCalls(item.Index, calls); break;
            case SliceExpr slice: CollectOptional(slice.Start, calls); CollectOptional(slice.Stop, calls); CollectOptional(slice.Step, calls); break;
            case UnaryExpr unary: CollectCalls(unary.Operand, calls); break;
            case BinaryExpr binary: CollectCalls(binary.Left, calls); CollectCalls(binary.Right, calls); break;
            case CompareExpr compare:
                CollectCalls(compare.First, calls);
                CollectAll(compare.Rest.Select(r => r.Value).ToList(), calls);
                break;
            case CondExpr cond: CollectCalls(cond.Test, calls); CollectCalls(cond.Then, calls); CollectOptional(cond.Else, calls); break;
            case FilterExpr filter: CollectOptional(filter.Value, calls); CollectArgs(filter.Args, calls); break;
            case TestExpr test: CollectCalls(test.Value, calls); CollectArgs(test.Args, calls); break;
        }
    }

    private static void CollectArgs(Arguments args, List<CallExpr> calls)
    {
        CollectAll(args.Positional, calls);
        CollectAll(args.Named.Select(n => n.Value).ToList(), calls);
    }

    private static void CollectOptional(Expr? expr, List<CallExpr> calls)
    {
        if (expr is not null)
        {
            CollectCalls(expr, calls);
        }
    }

    private static void CollectAll<T>(IReadOnlyList<T> nodes, List<CallExpr> calls)
        where T : Node
    {
        foreach (var node in nodes)
        {
            CollectCalls(node, calls);
        }
    }
}
