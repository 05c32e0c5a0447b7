using System.Text;
using Dynamo.Router.Generation;

namespace Dynamo.Router.Api;

/// <summary>Legacy completion responses (<c>text_completion</c>), whole or streamed.</summary>
internal static class CompletionResponseWriter
{
    public static async Task StreamAsync(HttpContext context, ResponseContext r, bool includeUsage, CancellationToken cancellationToken)
    {
        using var sse = await SseWriter.StartAsync(context.Response, cancellationToken).ConfigureAwait(false);
        var offsets = new int[r.Run.Plan.ChoiceCount];
        await foreach (var update in r.Run.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            r.OnToken(update.Choice);
            var text = update.Delta.Content ?? "";
            if (text.Length == 0 && update.Logprob is null && update.FinishReason is null)
            {
                continue;
            }

            var logprobs = update.Logprob is { } lp ? Logprobs([lp], [offsets[update.Choice]]) : null;
            offsets[update.Choice] += text.Length;
            var choice = new CompletionChoice(update.Choice, text, logprobs, update.FinishReason);
            await sse.WriteAsync(new CompletionResponse(r.Id, "text_completion", r.Created, r.Model, [choice], null),
                RouterJsonContext.Default.CompletionResponse, cancellationToken).ConfigureAwait(false);
        }

        if (includeUsage)
        {
            await sse.WriteAsync(new CompletionResponse(r.Id, "text_completion", r.Created, r.Model, [], r.Usage()),
                RouterJsonContext.Default.CompletionResponse, cancellationToken).ConfigureAwait(false);
        }

        await sse.WriteDoneAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task<CompletionResponse> CollectAsync(ResponseContext r, CancellationToken cancellationToken)
    {
        var count = r.Run.Plan.ChoiceCount;
        var text = new StringBuilder[count];
        var tokens = new List<TokenLogprob>?[count];
        var offsets = new List<int>?[count];
        var finish = new string?[count];
        for (var i = 0; i < count; i++)
        {
            text[i] = new StringBuilder();
        }

        await foreach (var update in r.Run.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            r.OnToken(update.Choice);
            var i = update.Choice;
            if (update.Logprob is { } lp)
            {
                (tokens[i] ??= []).Add(lp);
                (offsets[i] ??= []).Add(text[i].Length);
            }

            text[i].Append(update.Delta.Content);
            finish[i] = update.FinishReason ?? finish[i];
        }

        var choices = new CompletionChoice[count];
        for (var i = 0; i < count; i++)
        {
            choices[i] = new CompletionChoice(i, text[i].ToString(), tokens[i] is { } t ? Logprobs(t, offsets[i]!) : null, finish[i] ?? "stop");
        }

        return new CompletionResponse(r.Id, "text_completion", r.Created, r.Model, choices, r.Usage());
    }

    private static CompletionLogprobs Logprobs(IReadOnlyList<TokenLogprob> tokens, IReadOnlyList<int> offsets)
    {
        var top = new Dictionary<string, float>[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            top[i] = new Dictionary<string, float>(StringComparer.Ordinal);
            foreach (var alternative in tokens[i].Top)
            {
                top[i].TryAdd(alternative.Token, alternative.Logprob);
            }
        }

        return new CompletionLogprobs([.. tokens.Select(t => t.Token)], [.. tokens.Select(t => t.Logprob)], top, offsets);
    }
}
