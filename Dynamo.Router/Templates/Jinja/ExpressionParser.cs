using System.Globalization;

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

    private Expr ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Name:
                _index++;
                return token.Value switch
                {
                    "true" or "True" => new LiteralExpr(token.Line, true),
                    "false" or "False" => new LiteralExpr(token.Line, false),
                    "none" or "None" => new LiteralExpr(token.Line, null),
                    _ => new NameExpr(token.Line, token.Value),
                };
            case TokenKind.String:
                var text = token.Value;
                _index++;
                while (Current.Kind == TokenKind.String)
                {
                    text += Current.Value;
                    _index++;
                }

                return new LiteralExpr(token.Line, text);
            case TokenKind.Integer:
                _index++;
                return new LiteralExpr(token.Line, long.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var l)
                    ? l
                    : throw Fail($"integer literal {token.Value} is too large", token));
            case TokenKind.Float:
                _index++;
                return new LiteralExpr(token.Line, double.Parse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
            case TokenKind.Operator when token.Value == "(":
                _index++;
                if (Current.IsOperator(")"))
                {
                    _index++;
                    return new TupleExpr(token.Line, []);
                }

                var inner = ParseTuple(withCondExpr: true);
                ExpectOperator(")");
                return inner;
            case TokenKind.Operator when token.Value == "[":
                _index++;
                var items = ParseSequence("]");
                return new ListExpr(token.Line, items);
            case TokenKind.Operator when token.Value == "{":
                _index++;
                return ParseDict(token);
            default:
                throw Fail($"unexpected {token.Describe()}", token);
        }
    }

    private List<Expr> ParseSequence(string close)
    {
        var items = new List<Expr>();
        while (!Current.IsOperator(close))
        {
            if (items.Count > 0)
            {
                ExpectOperator(",");
                if (Current.IsOperator(close))
                {
                    break;
                }
            }

            items.Add(ParseExpression(withCondExpr: true));
        }

        _index++;
        return items;
    }

    private DictExpr ParseDict(Token open)
    {
        var items = new List<KeyValuePair<Expr, Expr>>();
        while (!Current.IsOperator("}"))
        {
            if (items.Count > 0)
            {
                ExpectOperator(",");
                if (Current.IsOperator("}"))
                {
                    break;
                }
            }

            var key = ParseExpression(withCondExpr: true);
            ExpectOperator(":");
            items.Add(new(key, ParseExpression(withCondExpr: true)));
        }

        _index++;
        return new DictExpr(open.Line, items);
    }
}
