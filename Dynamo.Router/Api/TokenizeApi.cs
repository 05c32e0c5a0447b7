using System.Text.Json;
using Dynamo.Router.Models;
using Dynamo.Router.Templates;
using Dynamo.Router.Templates.Jinja;

namespace Dynamo.Router.Api;

/// <summary>
/// vLLM's <c>POST /tokenize</c> (a prompt, or chat messages through the template) and <c>POST /detokenize</c>,
/// so clients can count tokens and debug prompts exactly as the router builds them.
/// </summary>
public static class TokenizeApi
{
    public const string TokenizePath = "/tokenize";

    public const string DetokenizePath = "/detokenize";

    public static IEndpointRouteBuilder MapTokenizeApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost(TokenizePath, TokenizeAsync);
        endpoints.MapPost(DetokenizePath, DetokenizeAsync);
        return endpoints;
    }

    private static async Task TokenizeAsync(HttpContext context, RouterModel model)
    {
        try
        {
            var served = model.Model;
            var (document, request) = await OpenAiErrors.ReadBodyAsync(context, RouterJsonContext.Default.TokenizeRequest).ConfigureAwait(false);
            using (document)
            {
                if (request.Model is not null)
                {
                    RequestValidation.CheckModel(request.Model, served);
                }

                int[] tokens;
                if (request.Messages is { ValueKind: JsonValueKind.Array } messages)
                {
                    string text;
                    try
                    {
                        text = served.Template.Render(new ChatTemplateRequest(MessageContent.Normalize(messages)) { AddGenerationPrompt = request.AddGenerationPrompt ?? true });
                    }
                    catch (TemplateRenderException ex)
                    {
                        throw OpenAiException.Invalid($"The chat template rejected the messages: {ex.Message}", "messages");
                    }

                    tokens = served.Tokenizer.Encode(text, addSpecial: request.AddSpecialTokens ?? false, parseSpecial: true);
                }
                else if (request.Prompt is { } prompt)
                {
                    tokens = served.Tokenizer.Encode(prompt, addSpecial: request.AddSpecialTokens ?? true, parseSpecial: true);
                }
                else
                {
                    throw OpenAiException.Invalid("Either 'prompt' (a string) or 'messages' (an array) is required.", "prompt");
                }

                var strings = request.ReturnTokenStrs is true ? tokens.Select(served.Tokenizer.GetTokenText).ToArray() : null;
                await WriteAsync(context, new TokenizeResponse(tokens.Length, served.ContextLength, tokens, strings), RouterJsonContext.Default.TokenizeResponse).ConfigureAwait(false);
            }
        }
        catch (OpenAiException ex)
        {
            await OpenAiErrors.WriteAsync(context, ex).ConfigureAwait(false);
        }
    }

    private static async Task DetokenizeAsync(HttpContext context, RouterModel model)
    {
        try
        {
            var served = model.Model;
            var (document, request) = await OpenAiErrors.ReadBodyAsync(context, RouterJsonContext.Default.DetokenizeRequest).ConfigureAwait(false);
            using (document)
            {
                if (request.Model is not null)
                {
                    RequestValidation.CheckModel(request.Model, served);
                }

                if (request.Tokens is not { } tokens)
                {
                    throw OpenAiException.Invalid("'tokens' (an array of token ids) is required.", "tokens");
                }

                var vocab = served.Tokenizer.VocabSize;
                if (tokens.Any(t => (uint)t >= (uint)vocab))
                {
                    throw OpenAiException.Invalid($"'tokens' must be token ids between 0 and {vocab - 1}.", "tokens");
                }

                await WriteAsync(context, new DetokenizeResponse(served.Tokenizer.Decode(tokens)), RouterJsonContext.Default.DetokenizeResponse).ConfigureAwait(false);
            }
        }
        catch (OpenAiException ex)
        {
            await OpenAiErrors.WriteAsync(context, ex).ConfigureAwait(false);
        }
    }

    private static Task WriteAsync<T>(HttpContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }
}
