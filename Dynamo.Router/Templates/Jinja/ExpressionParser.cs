namespace Dynamo.Router.Templates.Jinja;

/// <summary>Expressions, with Jinja2's precedence: condexpr, or, and, not, comparisons, + -, ~, * / // %, **, unary, postfix/filters.</summary>
internal sealed partial class Parser
{
    private static readonly HashSet<string> s_compareOps = ["==", "!=", "<", "<=", ">", ">="];

    private Expr ParseTuple(bool withCondExpr)
    {
        var line = Current.Line;
        var items = new List<Expr>();
        var sawComma = false;
        while (true)
        {
            if (items.Count > 0)
            {
                if (!Current.IsOperator(","))
                {
                    break;
                }

                _index++;
                sawComma = true;
            }

            if (items.Count > 0 && IsTupleEnd())
            {
                break;
            }

            items.Add(ParseExpression(withCondExpr));
        }

        return !sawComma ? items[0] : new TupleExpr(line, items);
    }

    private bool IsTupleEnd() =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.Eof
        || Current.IsOperator(")") || Current.IsOperator("]") || Current.IsOperator("}")
        || Current.IsName("if") || Current.IsName("in") || Current.IsName("else") || Current.IsName("recursive");

    private Expr ParseExpression(bool withCondExpr) => withCondExpr ? ParseCondExpr() : ParseOr();

    private Expr ParseCondExpr()
    {
        var expr = ParseOr();
        while (Current.IsName("if"))
        {
            var line = Current.Line;
            _index++;
            var test = ParseOr();
            Expr? otherwise = null;
            if (Current.IsName("else"))
            {
                _index++;
                otherwise = ParseCondExpr();
            }

            expr = new CondExpr(line, test, expr, otherwise);
        }

        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var line = Current.Line;
            _index++;
            left = new BinaryExpr(line, "or", left, ParseAnd());
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var line = Current.Line;
            _index++;
            left = new BinaryExpr(line, "and", left, ParseNot());
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var line = Current.Line;
            _index++;
            return new UnaryExpr(line, "not", ParseNot());
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var line = Current.Line;
        var first = ParseMath1();
        var rest = new List<KeyValuePair<string, Expr>>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && s_compareOps.Contains(Current.Value))
            {
                var op = Current.Value;
                _index++;
                rest.Add(new(op, ParseMath1()));
            }
            else if (Current.IsName("in"))
            {
                _index++;
                rest.Add(new("in", ParseMath1()));
            }
            else if (Current.IsName("not") && Peek.IsName("in"))
            {
                _index += 2;
                rest.Add(new("not in", ParseMath1()));
            }
            else
            {
                break;
            }
        }

        return rest.Count == 0 ? first : new CompareExpr(line, first, rest);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var op = Current;
            _index++;
            left = new BinaryExpr(op.Line, op.Value, left, ParseConcat());
        }

        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            var line = Current.Line;
            _index++;
            left = new BinaryExpr(line, "~", left, ParseMath2());
        }

        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var op = Current;
            _index++;
            left = new BinaryExpr(op.Line, op.Value, left, ParsePow());
        }

        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var line = Current.Line;
            _index++;
            left = new BinaryExpr(line, "**", left, ParseUnary(withFilter: true));
        }

        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var token = Current;
        Expr expr;
        if (token.IsOperator("-") || token.IsOperator("+"))
        {
            _index++;
            expr = new UnaryExpr(token.Line, token.Value, ParseUnary(withFilter: false));
        }
        else
        {
            expr = ParsePrimary();
        }

        expr = ParsePostfix(expr);
        return withFilter ? ParseFilterExpr(expr) : expr;
    }
}
