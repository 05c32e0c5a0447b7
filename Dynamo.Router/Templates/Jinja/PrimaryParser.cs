using System.Globalization;

namespace Dynamo.Router.Templates.Jinja;

/// <summary>Literals, names, parenthesised expressions, list and dict displays.</summary>
internal sealed partial class Parser
{
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
                    _ => new NameExpr(token.Line, token.Value) { Column = token.Column },
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
