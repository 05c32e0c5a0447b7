namespace Dynamo.Router.Templates.Jinja;

/// <summary>
/// Variable frames. Jinja gives each loop iteration, macro call and caller body its own frame; `if` blocks share
/// their parent's, and assignments never write through to an outer frame (hence namespace()).
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public bool TryGet(string name, out object? value)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._vars.TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = null;
        return false;
    }

    public Scope? Parent { get; } = parent;

    public void Set(string name, object? value) => _vars[name] = value;
}

/// <summary>The <c>loop</c> variable of a for loop.</summary>
internal sealed class LoopInfo(IReadOnlyList<object?> items)
{
    public int Index0 { get; set; }

    public int Length => items.Count;

    public object? Get(string attr) => attr switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(Length - Index0),
        "revindex0" => (long)(Length - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Length - 1,
        "length" => (long)Length,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Because("there is no previous item"),
        "nextitem" => Index0 + 1 < Length ? items[Index0 + 1] : Undefined.Because("there is no next item"),
        "cycle" => new PyFunction("cycle", args => args.Positional.Count == 0
            ? throw new TemplateRenderException("TypeError: no items for cycling given")
            : args.Positional[Index0 % args.Positional.Count]),
        _ => Undefined.Attribute(this, attr),
    };
}

/// <summary>A macro (or the body of a call block, exposed to the macro as <c>caller</c>) bound to its defining frame.</summary>
internal sealed class Macro(string name, IReadOnlyList<string> parameters, IReadOnlyList<Expr?> defaults, IReadOnlyList<Stmt> body, Scope closure)
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Parameters { get; } = parameters;

    public IReadOnlyList<Expr?> Defaults { get; } = defaults;

    public IReadOnlyList<Stmt> Body { get; } = body;

    public Scope Closure { get; } = closure;
}
