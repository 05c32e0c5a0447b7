namespace Dynamo.Router.Templates.Jinja;

/// <summary>
/// Builds the statement tree. Follows Jinja2's grammar; anything outside the supported subset (include, extends,
/// import, block, with, recursive loops...) is rejected here, so an unusable template fails when it is loaded.
/// </summary>
internal sealed partial class Parser
{
    private readonly List<Token> _tokens;
    private int _index;

    private Parser(List<Token> tokens) => _tokens = tokens;

    private Token Current => _tokens[_index];

    private Token Peek => _tokens[Math.Min(_index + 1, _tokens.Count - 1)];

    public static IReadOnlyList<Stmt> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var body = parser.ParseStatements([], out _);
        Validator.Validate(body);
        return body;
    }

    /// <summary>Parses until one of <paramref name="endTags"/> opens a block; returns with the tag name consumed.</summary>
    private List<Stmt> ParseStatements(string[] endTags, out string endTag)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.Data:
                    body.Add(new TextStmt(token.Line, token.Value));
                    _index++;
                    break;
                case TokenKind.VariableBegin:
                    _index++;
                    body.Add(new PrintStmt(token.Line, ParseTuple(withCondExpr: true)));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    _index++;
                    var tag = Current;
                    if (tag.Kind == TokenKind.Name && Array.IndexOf(endTags, tag.Value) >= 0)
                    {
                        _index++;
                        endTag = tag.Value;
                        return body;
                    }

                    body.Add(ParseStatement(endTags));
                    break;
                case TokenKind.Eof:
                    if (endTags.Length > 0)
                    {
                        throw Fail($"unexpected end of template, expected one of: {string.Join(", ", endTags.Select(t => $"'{t}'"))}", token);
                    }

                    endTag = "";
                    return body;
                default:
                    throw Fail($"unexpected {token.Describe()}", token);
            }
        }
    }

    private Stmt ParseStatement(string[] enclosingEndTags)
    {
        var tag = Current;
        if (tag.Kind != TokenKind.Name)
        {
            throw Fail("tag name expected", tag);
        }

        _index++;
        switch (tag.Value)
        {
            case "if": return ParseIf(tag);
            case "for": return ParseFor(tag);
            case "set": return ParseSet(tag);
            case "macro": return ParseMacro(tag);
            case "call": return ParseCallBlock(tag);
            case "filter": return ParseFilterBlock(tag);
            case "generation":
                Expect(TokenKind.BlockEnd);
                var generation = ParseStatements(["endgeneration"], out _);
                Expect(TokenKind.BlockEnd);
                return new GenerationStmt(tag.Line, generation);
            case "break":
            case "continue":
                Expect(TokenKind.BlockEnd);
                return tag.Value == "break" ? new BreakStmt(tag.Line) : new ContinueStmt(tag.Line);
            default:
                var known = enclosingEndTags.Length > 0 ? $" (expected one of: {string.Join(", ", enclosingEndTags)})" : "";
                throw Fail($"unsupported statement '{tag.Value}'{known}", tag);
        }
    }

    private IfStmt ParseIf(Token tag)
    {
        var branches = new List<KeyValuePair<Expr, IReadOnlyList<Stmt>>>();
        IReadOnlyList<Stmt>? elseBody = null;
        var test = ParseTuple(withCondExpr: false);
        while (true)
        {
            Expect(TokenKind.BlockEnd);
            var body = ParseStatements(["elif", "else", "endif"], out var end);
            branches.Add(new(test, body));
            if (end == "elif")
            {
                test = ParseTuple(withCondExpr: false);
                continue;
            }

            if (end == "else")
            {
                Expect(TokenKind.BlockEnd);
                elseBody = ParseStatements(["endif"], out _);
            }

            Expect(TokenKind.BlockEnd);
            return new IfStmt(tag.Line, branches, elseBody);
        }
    }

    private ForStmt ParseFor(Token tag)
    {
        var target = ParseAssignTarget(allowNamespace: false);
        ExpectName("in");
        var iter = ParseTuple(withCondExpr: false);
        Expr? filter = null;
        if (Current.IsName("if"))
        {
            _index++;
            filter = ParseExpression(withCondExpr: true);
        }

        if (Current.IsName("recursive"))
        {
            throw Fail("unsupported recursive for loop", Current);
        }

        Expect(TokenKind.BlockEnd);
        var body = ParseStatements(["endfor", "else"], out var end);
        IReadOnlyList<Stmt>? elseBody = null;
        if (end == "else")
        {
            Expect(TokenKind.BlockEnd);
            elseBody = ParseStatements(["endfor"], out _);
        }

        Expect(TokenKind.BlockEnd);
        return new ForStmt(tag.Line, target, iter, filter, body, elseBody);
    }

    private Stmt ParseSet(Token tag)
    {
        var target = ParseAssignTarget(allowNamespace: true);
        if (Current.IsOperator("="))
        {
            _index++;
            var value = ParseTuple(withCondExpr: true);
            Expect(TokenKind.BlockEnd);
            return new SetStmt(tag.Line, target, value);
        }

        var filters = ParseFilterChain(null);
        Expect(TokenKind.BlockEnd);
        var body = ParseStatements(["endset"], out _);
        Expect(TokenKind.BlockEnd);
        return new SetBlockStmt(tag.Line, target, filters, body);
    }

    private MacroStmt ParseMacro(Token tag)
    {
        var name = ExpectKind(TokenKind.Name).Value;
        var (parameters, defaults) = ParseSignature();
        Expect(TokenKind.BlockEnd);
        var body = ParseStatements(["endmacro"], out _);
        Expect(TokenKind.BlockEnd);
        return new MacroStmt(tag.Line, name, parameters, defaults, body);
    }

    private CallBlockStmt ParseCallBlock(Token tag)
    {
        var parameters = new List<string>();
        var defaults = new List<Expr?>();
        if (Current.IsOperator("("))
        {
            (parameters, defaults) = ParseSignature();
        }

        var call = ParseExpression(withCondExpr: true) as CallExpr ?? throw Fail("expected a macro call", tag);
        Expect(TokenKind.BlockEnd);
        var body = ParseStatements(["endcall"], out _);
        Expect(TokenKind.BlockEnd);
        return new CallBlockStmt(tag.Line, call, parameters, defaults, body);
    }

    private FilterBlockStmt ParseFilterBlock(Token tag)
    {
        var filters = ParseFilterChain(ParseFilterCall(null));
        Expect(TokenKind.BlockEnd);
        var body = ParseStatements(["endfilter"], out _);
        Expect(TokenKind.BlockEnd);
        return new FilterBlockStmt(tag.Line, filters, body);
    }

    private List<FilterExpr> ParseFilterChain(FilterExpr? first)
    {
        var filters = first is null ? new List<FilterExpr>() : [first];
        while (Current.IsOperator("|"))
        {
            _index++;
            filters.Add(ParseFilterCall(null));
        }

        return filters;
    }
}
