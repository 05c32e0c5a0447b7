using Dynamo.Router.Templates.Jinja;

namespace Dynamo.Router.Templates;

/// <summary>
/// A model's chat template (from the GGUF's <c>tokenizer.chat_template</c> or a configured file), compiled once and
/// rendered per request exactly as <c>transformers</c>' apply_chat_template renders it: the template sees
/// <c>messages</c>, <c>tools</c> (None when absent), <c>documents</c> (None), <c>add_generation_prompt</c>, the
/// special tokens and any chat_template_kwargs. Thread-safe.
/// </summary>
public sealed class ChatTemplate
{
    private static readonly HashSet<string> s_reserved = ["messages", "tools", "documents", "add_generation_prompt"];

    private readonly JinjaTemplate _template;
    private readonly TimeProvider _timeProvider;

    private ChatTemplate(string source, JinjaTemplate template, string? bosToken, string? eosToken, TimeProvider timeProvider)
    {
        Source = source;
        _template = template;
        BosToken = bosToken;
        EosToken = eosToken;
        _timeProvider = timeProvider;
    }

    public string Source { get; }

    public string? BosToken { get; }

    public string? EosToken { get; }

    /// <summary>Compiles the template; throws <see cref="TemplateException"/> (with line and column) if it cannot be supported.</summary>
    /// <param name="bosToken">Exposed as <c>bos_token</c>; left undefined when null, as transformers does for models without one.</param>
    /// <param name="timeProvider">The clock behind <c>strftime_now</c>.</param>
    public static ChatTemplate Compile(string source, string? bosToken = null, string? eosToken = null, TimeProvider? timeProvider = null) =>
        new(source, JinjaTemplate.Compile(source), bosToken, eosToken, timeProvider ?? TimeProvider.System);

    public static ChatTemplate Load(string path, string? bosToken = null, string? eosToken = null, TimeProvider? timeProvider = null)
    {
        try
        {
            return Compile(File.ReadAllText(path), bosToken, eosToken, timeProvider);
        }
        catch (TemplateException e)
        {
            throw new TemplateException($"{e.Reason} in {path}", e.Line, e.Column);
        }
    }

    /// <summary>
    /// Picks a model's template as the Router loads it: a configured template file wins over the GGUF's
    /// <c>tokenizer.chat_template</c>. Fails here, at model load, if neither exists or the template is unsupported.
    /// </summary>
    public static ChatTemplate FromModel(string? configuredTemplatePath, string? ggufChatTemplate, string? bosToken, string? eosToken, TimeProvider? timeProvider = null)
    {
        if (!string.IsNullOrEmpty(configuredTemplatePath))
        {
            return Load(configuredTemplatePath, bosToken, eosToken, timeProvider);
        }

        if (string.IsNullOrEmpty(ggufChatTemplate))
        {
            throw new InvalidOperationException("The model has no chat template: its GGUF has no tokenizer.chat_template and no template file is configured.");
        }

        try
        {
            return Compile(ggufChatTemplate, bosToken, eosToken, timeProvider);
        }
        catch (TemplateException e)
        {
            throw new TemplateException($"{e.Reason} in the GGUF's tokenizer.chat_template", e.Line, e.Column);
        }
    }

    /// <summary>Renders the prompt; throws <see cref="TemplateRenderException"/> when the template rejects the request.</summary>
    public string Render(ChatTemplateRequest request) => RenderWithGenerationSpans(request).Text;

    /// <summary>Renders the prompt and the character spans of <c>{% generation %}</c> blocks (assistant masks).</summary>
    public RenderedTemplate RenderWithGenerationSpans(ChatTemplateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (BosToken is not null)
        {
            variables["bos_token"] = BosToken;
        }

        if (EosToken is not null)
        {
            variables["eos_token"] = EosToken;
        }

        foreach (var (name, value) in request.Kwargs)
        {
            if (s_reserved.Contains(name))
            {
                throw new TemplateRenderException($"chat_template_kwargs may not set '{name}'");
            }

            variables[name] = value;
        }

        variables["messages"] = ChatMessages.Normalize(request.Messages);
        variables["tools"] = request.Tools is { ValueKind: not System.Text.Json.JsonValueKind.Null } tools ? tools : null;
        variables["documents"] = null;
        variables["add_generation_prompt"] = request.AddGenerationPrompt;
        return _template.RenderWithGenerationSpans(variables, _timeProvider);
    }
}
