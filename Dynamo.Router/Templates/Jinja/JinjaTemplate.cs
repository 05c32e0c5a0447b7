namespace Dynamo.Router.Templates.Jinja;

/// <summary>
/// A compiled template. Compiling validates every statement, filter and test, so an unsupported template fails
/// here with a <see cref="TemplateException"/>. The compiled tree is immutable: Render is safe from many threads.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Stmt> _body;

    private JinjaTemplate(IReadOnlyList<Stmt> body) => _body = body;

    public static JinjaTemplate Compile(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new JinjaTemplate(Parser.Parse(source));
    }

    /// <summary>Renders with the given variables (plain .NET values or <see cref="System.Text.Json.JsonElement"/>s).</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, TimeProvider? timeProvider = null) =>
        RenderWithGenerationSpans(variables, timeProvider).Text;

    /// <summary>Renders and reports where each <c>{% generation %}</c> block's output lies in the text.</summary>
    public RenderedTemplate RenderWithGenerationSpans(IReadOnlyDictionary<string, object?> variables, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var globals = new Scope(null);
        Globals.AddTo(globals);
        var context = new Scope(globals);
        foreach (var (name, value) in variables)
        {
            context.Set(name, TemplateValues.From(value));
        }

        var interpreter = new Interpreter(timeProvider ?? TimeProvider.System);
        var text = interpreter.Run(_body, context);
        return new RenderedTemplate(text, [.. interpreter.GenerationSpans.Select(s => new Range(s.Start, s.End))]);
    }
}

/// <summary>A render and the character ranges of its generation blocks (the assistant-mask spans of transformers).</summary>
public sealed record RenderedTemplate(string Text, IReadOnlyList<Range> GenerationSpans);
