using System.Text.Json;
using Dynamo.Router.Generation;
using Dynamo.Router.Models;
using Dynamo.Router.Parsers;
using Dynamo.Router.Templates;
using Dynamo.Router.Templates.Jinja;
using Dynamo.Runtime.Generation;

namespace Dynamo.Router.Api;

/// <summary>
/// Checks an OpenAI request against the served model and turns it into a <see cref="GenerationPlan"/>. Sampling
/// ranges the worker checks (temperature, top_p, …) are left to it: its 400 names the same parameter.
/// </summary>
internal static class RequestValidation
{
    /// <summary>OpenAI and vLLM cap alternatives per token at 20.</summary>
    public const int MaxTopLogprobs = 20;

    public static void CheckModel(string? requested, ServedModel model)
    {
        if (string.IsNullOrEmpty(requested))
        {
            throw OpenAiException.Invalid("'model' is required.", "model");
        }

        if (!string.Equals(requested, model.Name, StringComparison.Ordinal))
        {
            throw new OpenAiException(StatusCodes.Status404NotFound, $"The model '{requested}' does not exist.", "invalid_request_error", "model", "model_not_found");
        }
    }

    /// <summary>
    /// Checks <c>tools</c> / <c>tool_choice</c>, renders the chat template and tokenizes the prompt (the template
    /// writes BOS itself, so none is added). A request without tools gets <see cref="ToolChoice.None"/>, so an
    /// answer that happens to look like a call stays text.
    /// </summary>
    public static RenderedChat ChatPrompt(JsonElement body, OpenAiRequest request, ServedModel model)
    {
        if (request.Messages is not { ValueKind: JsonValueKind.Array } messages || messages.GetArrayLength() == 0)
        {
            throw OpenAiException.Invalid("'messages' must be a non-empty array.", "messages");
        }

        ToolChoice toolChoice;
        try
        {
            toolChoice = ToolChoice.Resolve(request.Tools, request.ToolChoice);
        }
        catch (ToolChoiceException ex)
        {
            throw OpenAiException.Invalid(ex.Reason, ex.ParamName);
        }

        ChatTemplateRequest templateRequest;
        try
        {
            templateRequest = ChatTemplateRequest.FromOpenAiRequest(body);
        }
        catch (ArgumentException ex)
        {
            throw OpenAiException.Invalid(ex.Message, "messages");
        }

        templateRequest = templateRequest with { Messages = MessageContent.Normalize(templateRequest.Messages) };
        if (request.ToolChoice is { ValueKind: JsonValueKind.String } none && none.ValueEquals("none"))
        {
            // The model was told not to call tools: it is not shown any (as OpenAI behaves).
            templateRequest = templateRequest with { Tools = null };
        }

        string text;
        try
        {
            text = model.Template.Render(templateRequest);
        }
        catch (TemplateRenderException ex)
        {
            throw OpenAiException.Invalid($"The chat template rejected the messages: {ex.Message}", "messages");
        }

        return new RenderedChat(model.Tokenizer.Encode(text, addSpecial: false, parseSpecial: true), toolChoice, ReasoningParsers.PromptOpensReasoning(text));
    }

    /// <summary>A completions prompt: a string, an array of strings, token ids, or an array of token-id arrays.</summary>
    public static IReadOnlyList<int[]> CompletionPrompts(OpenAiRequest request, ServedModel model)
    {
        if (request.Prompt is not { } prompt || prompt.ValueKind == JsonValueKind.Null)
        {
            throw OpenAiException.Invalid("'prompt' is required.", "prompt");
        }

        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return [Encode(prompt.GetString()!, model)];
            case JsonValueKind.Array when prompt.GetArrayLength() > 0:
                var first = prompt[0].ValueKind;
                if (first == JsonValueKind.Number)
                {
                    return [TokenIds(prompt, model)];
                }

                var prompts = new List<int[]>(prompt.GetArrayLength());
                foreach (var item in prompt.EnumerateArray())
                {
                    prompts.Add(item.ValueKind switch
                    {
                        JsonValueKind.String => Encode(item.GetString()!, model),
                        JsonValueKind.Array when item.GetArrayLength() > 0 => TokenIds(item, model),
                        _ => throw OpenAiException.Invalid("'prompt' must be a string, an array of strings, an array of token ids or an array of token-id arrays.", "prompt"),
                    });
                }

                return prompts;
            default:
                throw OpenAiException.Invalid("'prompt' must be a non-empty string, array of strings, array of token ids or array of token-id arrays.", "prompt");
        }
    }

    public static GenerationPlan Plan(
        string requestId, OpenAiRequest request, IReadOnlyList<int[]> prompts, ServedModel model, bool chat, int maxChoices, string? guidedJson = null)
    {
        if (request.Echo is true)
        {
            throw OpenAiException.Invalid("'echo' is not supported.", "echo");
        }

        if (!string.IsNullOrEmpty(request.Suffix))
        {
            throw OpenAiException.Invalid("'suffix' is not supported.", "suffix");
        }

        var n = request.N ?? 1;
        if (n < 1 || n > maxChoices)
        {
            throw OpenAiException.Invalid($"'n' must be between 1 and {maxChoices}.", "n");
        }

        if (request.BestOf is { } bestOf && bestOf != n)
        {
            throw OpenAiException.Invalid("'best_of' other than n is not supported.", "best_of");
        }

        var (limitName, limit) = chat && request.MaxCompletionTokens is { } mct ? ("max_completion_tokens", (int?)mct) : ("max_tokens", request.MaxTokens);
        if (limit is <= 0)
        {
            throw OpenAiException.Invalid($"'{limitName}' must be a positive integer, got {limit}.", limitName);
        }

        if (request.MinTokens is < 0 || (request.MinTokens is { } min && limit is { } max && min > max))
        {
            throw OpenAiException.Invalid("'min_tokens' must be between 0 and max_tokens.", "min_tokens");
        }

        var maxTokens = new int[prompts.Count];
        for (var i = 0; i < prompts.Count; i++)
        {
            var length = prompts[i].Length;
            var room = model.ContextLength - length;
            if (length == 0)
            {
                throw OpenAiException.Invalid("The prompt is empty after tokenization.", chat ? "messages" : "prompt");
            }

            if (room <= 0 || (limit is { } l && l > room))
            {
                var asked = limit is { } a ? $"{(long)length + a} tokens ({length} in the {(chat ? "messages" : "prompt")}, {a} in the completion)" : $"{length} tokens in the {(chat ? "messages" : "prompt")}";
                throw OpenAiException.Invalid(
                    $"This model's maximum context length is {model.ContextLength} tokens. However, you requested {asked}. Please reduce the length of the {(chat ? "messages" : "prompt")} or completion.",
                    chat ? "messages" : "prompt", "context_length_exceeded");
            }

            maxTokens[i] = limit ?? room;
        }

        return new GenerationPlan(
            requestId,
            prompts,
            maxTokens,
            n,
            new GenerateSampling(request.Temperature, request.TopP, request.TopK, request.MinP, request.Seed,
                request.PresencePenalty, request.FrequencyPenalty, request.RepetitionPenalty, request.LogitBias),
            StopStrings(request.Stop),
            request.StopTokenIds,
            chat ? ChatLogprobs(request) : CompletionLogprobs(request),
            request.IgnoreEos,
            request.MinTokens,
            NvExt.ReadOverrides(request.Nvext),
            guidedJson);
    }

    private static int? ChatLogprobs(OpenAiRequest request)
    {
        var on = request.Logprobs switch
        {
            null or { ValueKind: JsonValueKind.Null or JsonValueKind.False } => false,
            { ValueKind: JsonValueKind.True } => true,
            _ => throw OpenAiException.Invalid("'logprobs' must be a boolean.", "logprobs"),
        };
        if (request.TopLogprobs is { } top)
        {
            if (top is < 0 or > MaxTopLogprobs)
            {
                throw OpenAiException.Invalid($"'top_logprobs' must be between 0 and {MaxTopLogprobs}.", "top_logprobs");
            }

            if (!on && top > 0)
            {
                throw OpenAiException.Invalid("'top_logprobs' needs 'logprobs' set to true.", "top_logprobs");
            }
        }

        return on ? request.TopLogprobs ?? 0 : null;
    }

    private static int? CompletionLogprobs(OpenAiRequest request) => request.Logprobs switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.Number } l when l.TryGetInt32(out var k) && k is >= 0 and <= MaxTopLogprobs => k,
        _ => throw OpenAiException.Invalid($"'logprobs' must be an integer between 0 and {MaxTopLogprobs}.", "logprobs"),
    };

    private static string[] StopStrings(JsonElement? stop)
    {
        string[] result = stop switch
        {
            null or { ValueKind: JsonValueKind.Null } => [],
            { ValueKind: JsonValueKind.String } s => [s.GetString()!],
            { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
                [.. a.EnumerateArray().Select(e => e.GetString()!)],
            _ => throw OpenAiException.Invalid("'stop' must be a string or an array of strings.", "stop"),
        };
        if (result.Any(string.IsNullOrEmpty))
        {
            throw OpenAiException.Invalid("'stop' strings must not be empty.", "stop");
        }

        return result;
    }

    private static int[] Encode(string text, ServedModel model)
    {
        if (text.Length == 0)
        {
            throw OpenAiException.Invalid("'prompt' must not be empty.", "prompt");
        }

        return model.Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
    }

    private static int[] TokenIds(JsonElement array, ServedModel model)
    {
        var ids = new int[array.GetArrayLength()];
        var i = 0;
        var vocab = model.Tokenizer.VocabSize;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var id) || (uint)id >= (uint)vocab)
            {
                throw OpenAiException.Invalid($"'prompt' token ids must be integers between 0 and {vocab - 1}.", "prompt");
            }

            ids[i++] = id;
        }

        return ids;
    }
}

/// <summary>A chat request's prompt and what its output parser needs to know about it.</summary>
/// <param name="OpensReasoning">The rendered prompt ends inside an open reasoning block (<c>&lt;think&gt;</c>).</param>
internal sealed record RenderedChat(int[] Tokens, ToolChoice ToolChoice, bool OpensReasoning);
