namespace Dynamo.Router.Templates.Jinja;

internal abstract record Node(int Line);

internal abstract record Expr(int Line) : Node(Line);

internal sealed record LiteralExpr(int Line, object? Value) : Expr(Line);

internal sealed record NameExpr(int Line, string Name) : Expr(Line)
{
    /// <summary>Where the name starts, for load-time errors about it.</summary>
    public int Column { get; init; }
}

internal sealed record ListExpr(int Line, IReadOnlyList<Expr> Items) : Expr(Line);

internal sealed record TupleExpr(int Line, IReadOnlyList<Expr> Items) : Expr(Line);

internal sealed record DictExpr(int Line, IReadOnlyList<KeyValuePair<Expr, Expr>> Items) : Expr(Line);

internal sealed record AttrExpr(int Line, Expr Target, string Attr) : Expr(Line);

internal sealed record ItemExpr(int Line, Expr Target, Expr Index) : Expr(Line);

internal sealed record SliceExpr(int Line, Expr? Start, Expr? Stop, Expr? Step) : Expr(Line);

internal sealed record UnaryExpr(int Line, string Op, Expr Operand) : Expr(Line);

/// <summary>Arithmetic, <c>~</c>, <c>and</c>, <c>or</c>, <c>in</c>, <c>not in</c>.</summary>
internal sealed record BinaryExpr(int Line, string Op, Expr Left, Expr Right) : Expr(Line);

/// <summary>A comparison chain: <c>a &lt; b &lt; c</c> means <c>a &lt; b and b &lt; c</c>, as in Python.</summary>
internal sealed record CompareExpr(int Line, Expr First, IReadOnlyList<KeyValuePair<string, Expr>> Rest) : Expr(Line);

internal sealed record CondExpr(int Line, Expr Test, Expr Then, Expr? Else) : Expr(Line);

internal sealed record Arguments(IReadOnlyList<Expr> Positional, IReadOnlyList<KeyValuePair<string, Expr>> Named)
{
    public static readonly Arguments None = new([], []);
}

internal sealed record CallExpr(int Line, Expr Callee, Arguments Args) : Expr(Line);

/// <summary>A filter application; the implementation is resolved at parse time so unknown filters fail at load.</summary>
internal sealed record FilterExpr(int Line, Expr? Value, string Name, FilterFunc Impl, Arguments Args) : Expr(Line);

internal sealed record TestExpr(int Line, Expr Value, string Name, TestFunc Impl, Arguments Args, bool Negated) : Expr(Line);

internal abstract record Stmt(int Line) : Node(Line);

internal sealed record TextStmt(int Line, string Text) : Stmt(Line);

internal sealed record PrintStmt(int Line, Expr Value) : Stmt(Line);

internal sealed record IfStmt(int Line, IReadOnlyList<KeyValuePair<Expr, IReadOnlyList<Stmt>>> Branches, IReadOnlyList<Stmt>? Else) : Stmt(Line);

internal sealed record ForStmt(int Line, Target Target, Expr Iter, Expr? Filter, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt>? Else) : Stmt(Line);

internal sealed record SetStmt(int Line, Target Target, Expr Value) : Stmt(Line);

internal sealed record SetBlockStmt(int Line, Target Target, IReadOnlyList<FilterExpr> Filters, IReadOnlyList<Stmt> Body) : Stmt(Line);

internal sealed record MacroStmt(int Line, string Name, IReadOnlyList<string> Parameters, IReadOnlyList<Expr?> Defaults, IReadOnlyList<Stmt> Body) : Stmt(Line);

internal sealed record CallBlockStmt(int Line, CallExpr Call, IReadOnlyList<string> CallerParameters, IReadOnlyList<Expr?> CallerDefaults, IReadOnlyList<Stmt> Body) : Stmt(Line);

internal sealed record FilterBlockStmt(int Line, IReadOnlyList<FilterExpr> Filters, IReadOnlyList<Stmt> Body) : Stmt(Line);

internal sealed record GenerationStmt(int Line, IReadOnlyList<Stmt> Body) : Stmt(Line);

internal sealed record BreakStmt(int Line) : Stmt(Line);

internal sealed record ContinueStmt(int Line) : Stmt(Line);

internal abstract record Target;

internal sealed record NameTarget(string Name) : Target;

internal sealed record TupleTarget(IReadOnlyList<Target> Items) : Target;

/// <summary><c>{% set ns.attr = value %}</c>: the only attribute assignment Jinja allows, on a namespace().</summary>
internal sealed record NamespaceAttrTarget(string Namespace, string Attr) : Target;
