namespace Dynamo.Router.Templates.Jinja;

/// <summary>Attribute access, subscripts, calls, filters and tests.</summary>
internal sealed partial class Parser
{
    private Expr ParsePostfix(Expr expr)
    {
        while (true)
        {
            var token = Current;
            if (token.IsOperator("."))
            {
                _index++;
                var attr = Current;
                if (attr.Kind is not (TokenKind.Name or TokenKind.Integer))
                {
                    throw Fail($"unexpected {attr.Describe()} after '.'", attr);
                }

                _index++;
                expr = attr.Kind == TokenKind.Integer
                    ? new ItemExpr(token.Line, expr, new LiteralExpr(token.Line, long.Parse(attr.Value, System.Globalization.CultureInfo.InvariantCulture)))
                    : new AttrExpr(token.Line, expr, attr.Value);
            }
            else if (token.IsOperator("["))
            {
                _index++;
                expr = new ItemExpr(token.Line, expr, ParseSubscript());
                ExpectOperator("]");
            }
            else if (token.IsOperator("("))
            {
                expr = new CallExpr(token.Line, expr, ParseCallArguments());
            }
            else
            {
                return expr;
            }
        }
    }

    private Expr ParseSubscript()
    {
        var line = Current.Line;
        Expr? start = null;
        if (!Current.IsOperator(":"))
        {
            start = ParseExpression(withCondExpr: true);
            if (!Current.IsOperator(":"))
            {
                return start;
            }
        }

        _index++;
        Expr? stop = null;
        Expr? step = null;
        if (!Current.IsOperator("]") && !Current.IsOperator(":"))
        {
            stop = ParseExpression(withCondExpr: true);
        }

        if (Current.IsOperator(":"))
        {
            _index++;
            if (!Current.IsOperator("]"))
            {
                step = ParseExpression(withCondExpr: true);
            }
        }

        return new SliceExpr(line, start, stop, step);
    }

    private Arguments ParseCallArguments()
    {
        ExpectOperator("(");
        var positional = new List<Expr>();
        var named = new List<KeyValuePair<string, Expr>>();
        while (!Current.IsOperator(")"))
        {
            if (positional.Count + named.Count > 0)
            {
                ExpectOperator(",");
                if (Current.IsOperator(")"))
                {
                    break;
                }
            }

            if (Current.IsOperator("*") || Current.IsOperator("**"))
            {
                throw Fail("unsupported *args/**kwargs in call", Current);
            }

            if (Current.Kind == TokenKind.Name && Peek.IsOperator("="))
            {
                var name = Current.Value;
                _index += 2;
                named.Add(new(name, ParseExpression(withCondExpr: true)));
            }
            else if (named.Count > 0)
            {
                throw Fail("positional argument follows keyword argument", Current);
            }
            else
            {
                positional.Add(ParseExpression(withCondExpr: true));
            }
        }

        _index++;
        return new Arguments(positional, named);
    }

    private Expr ParseFilterExpr(Expr expr)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                _index++;
                expr = ParseFilterCall(expr);
            }
            else if (Current.IsName("is"))
            {
                _index++;
                expr = ParseTest(expr);
            }
            else if (Current.IsOperator("("))
            {
                expr = new CallExpr(Current.Line, expr, ParseCallArguments());
            }
            else
            {
                return expr;
            }
        }
    }

    private FilterExpr ParseFilterCall(Expr? value)
    {
        var nameToken = ExpectKind(TokenKind.Name);
        var name = nameToken.Value;
        while (Current.IsOperator("."))
        {
            _index++;
            name += "." + ExpectKind(TokenKind.Name).Value;
        }

        var impl = Filters.Find(name) ?? throw Fail($"unsupported filter '{name}'", nameToken);
        var args = Current.IsOperator("(") ? ParseCallArguments() : Arguments.None;
        return new FilterExpr(nameToken.Line, value, name, impl, args);
    }

    private TestExpr ParseTest(Expr value)
    {
        var negated = false;
        if (Current.IsName("not"))
        {
            _index++;
            negated = true;
        }

        var nameToken = ExpectKind(TokenKind.Name);
        var impl = Tests.Find(nameToken.Value) ?? throw Fail($"unsupported test '{nameToken.Value}'", nameToken);
        var args = Arguments.None;
        if (Current.IsOperator("("))
        {
            args = ParseCallArguments();
        }
        else if (StartsTestArgument(Current))
        {
            if (Current.IsName("is"))
            {
                throw Fail("you cannot chain multiple tests with is", Current);
            }

            args = new Arguments([ParsePostfix(ParsePrimary())], []);
        }

        return new TestExpr(nameToken.Line, value, nameToken.Value, impl, args, negated);
    }

    private static bool StartsTestArgument(Token token) =>
        (token.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
            || token.IsOperator("(") || token.IsOperator("[") || token.IsOperator("{"))
        && !token.IsName("else") && !token.IsName("or") && !token.IsName("and");
}
