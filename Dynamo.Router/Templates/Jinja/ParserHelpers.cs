namespace Dynamo.Router.Templates.Jinja;

/// <summary>Macro signatures, assignment targets and token expectations.</summary>
internal sealed partial class Parser
{
    private (List<string> Names, List<Expr?> Defaults) ParseSignature()
    {
        var names = new List<string>();
        var defaults = new List<Expr?>();
        ExpectOperator("(");
        while (!Current.IsOperator(")"))
        {
            if (names.Count > 0)
            {
                ExpectOperator(",");
            }

            names.Add(ExpectKind(TokenKind.Name).Value);
            if (Current.IsOperator("="))
            {
                _index++;
                defaults.Add(ParseExpression(withCondExpr: true));
            }
            else
            {
                defaults.Add(null);
            }
        }

        _index++;
        return (names, defaults);
    }

    private Target ParseAssignTarget(bool allowNamespace)
    {
        var items = new List<Target>();
        do
        {
            if (items.Count > 0)
            {
                _index++;
            }

            var name = ExpectKind(TokenKind.Name);
            if (allowNamespace && Current.IsOperator("."))
            {
                _index++;
                return new NamespaceAttrTarget(name.Value, ExpectKind(TokenKind.Name).Value);
            }

            items.Add(new NameTarget(name.Value));
        }
        while (Current.IsOperator(","));

        return items.Count == 1 ? items[0] : new TupleTarget(items);
    }

    private void Expect(TokenKind kind) => ExpectKind(kind);

    private Token ExpectKind(TokenKind kind)
    {
        var token = Current;
        if (token.Kind != kind)
        {
            throw Fail($"unexpected {token.Describe()}, expected {new Token(kind, kind.ToString().ToLowerInvariant(), 0, 0).Describe()}", token);
        }

        _index++;
        return token;
    }

    private void ExpectOperator(string op)
    {
        if (!Current.IsOperator(op))
        {
            throw Fail($"unexpected {Current.Describe()}, expected '{op}'", Current);
        }

        _index++;
    }

    private void ExpectName(string name)
    {
        if (!Current.IsName(name))
        {
            throw Fail($"unexpected {Current.Describe()}, expected '{name}'", Current);
        }

        _index++;
    }

    private static TemplateException Fail(string message, Token at) => new(message, at.Line, at.Column);
}
