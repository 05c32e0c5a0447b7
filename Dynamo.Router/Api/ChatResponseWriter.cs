using System.Text;
using Dynamo.Router.Generation;

namespace Dynamo.Router.Api;

/// <summary>Chat completion responses: <c>chat.completion</c> objects or <c>chat.completion.chunk</c> streams.</summary>
internal static class ChatResponseWriter
{
    public static async Task StreamAsync(HttpContext context, ResponseContext r, bool includeUsage, CancellationToken cancellationToken)
    {
        using var sse = await SseWriter.StartAsync(context.Response, cancellationToken).ConfigureAwait(false);
        var roles = new ChatChunkChoice[r.Run.Plan.ChoiceCount];
        for (var i = 0; i < roles.Length; i++)
        {
            roles[i] = new ChatChunkChoice(i, new ChatDelta("assistant", "", null, null), null, null);
        }

        // OpenAI opens every choice with its role before any content.
        await sse.WriteAsync(Chunk(r, roles), RouterJsonContext.Default.ChatCompletionChunk, cancellationToken).ConfigureAwait(false);
        await foreach (var update in r.Run.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            r.OnToken(update.Choice);
            var delta = update.Delta;
            if (delta.IsEmpty && update.Logprob is null && update.FinishReason is null)
            {
                continue; // a token whose text is held back (split character, possible stop string, parser markup)
            }

            var logprobs = update.Logprob is { } lp ? new ChatLogprobs([ToChat(lp)]) : null;
            if (delta.ToolCalls.Count == 0)
            {
                var choice = new ChatChunkChoice(update.Choice, new ChatDelta(null, delta.Content, delta.Reasoning, null), logprobs, update.FinishReason);
                await sse.WriteAsync(Chunk(r, [choice]), RouterJsonContext.Default.ChatCompletionChunk, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var parts = ToChunks(delta.ToolCalls);
            for (var p = 0; p < parts.Count; p++)
            {
                var last = p == parts.Count - 1;
                var choice = new ChatChunkChoice(
                    update.Choice,
                    new ChatDelta(null, p == 0 ? delta.Content : null, p == 0 ? delta.Reasoning : null, parts[p]),
                    last ? logprobs : null,
                    last ? update.FinishReason : null);
                await sse.WriteAsync(Chunk(r, [choice]), RouterJsonContext.Default.ChatCompletionChunk, cancellationToken).ConfigureAwait(false);
            }
        }

        if (includeUsage)
        {
            await sse.WriteAsync(Chunk(r, [], r.Usage()), RouterJsonContext.Default.ChatCompletionChunk, cancellationToken).ConfigureAwait(false);
        }

        await sse.WriteDoneAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task<ChatCompletionResponse> CollectAsync(ResponseContext r, CancellationToken cancellationToken)
    {
        var count = r.Run.Plan.ChoiceCount;
        var content = new StringBuilder[count];
        var reasoning = new StringBuilder[count];
        var calls = new SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>[count];
        var logprobs = new List<ChatTokenLogprob>?[count];
        var finish = new string?[count];
        for (var i = 0; i < count; i++)
        {
            content[i] = new StringBuilder();
            reasoning[i] = new StringBuilder();
            calls[i] = [];
        }

        await foreach (var update in r.Run.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            r.OnToken(update.Choice);
            var i = update.Choice;
            content[i].Append(update.Delta.Content);
            reasoning[i].Append(update.Delta.Reasoning);
            foreach (var call in update.Delta.ToolCalls)
            {
                var entry = calls[i].TryGetValue(call.Index, out var e) ? e : (null, null, new StringBuilder());
                calls[i][call.Index] = (entry.Id ?? call.Id, entry.Name ?? call.Name, entry.Arguments.Append(call.ArgumentsDelta));
            }

            if (update.Logprob is { } lp)
            {
                (logprobs[i] ??= []).Add(ToChat(lp));
            }

            finish[i] = update.FinishReason ?? finish[i];
        }

        var choices = new ChatChoice[count];
        for (var i = 0; i < count; i++)
        {
            var toolCalls = calls[i].Count == 0
                ? null
                : calls[i].Select(c => new ToolCall(c.Value.Id ?? $"call_{c.Key}", "function", new FunctionCall(c.Value.Name ?? "", c.Value.Arguments.ToString()))).ToList();
            choices[i] = new ChatChoice(
                i,
                new ChatMessage("assistant", content[i].Length == 0 && toolCalls is not null ? null : content[i].ToString(),
                    reasoning[i].Length == 0 ? null : reasoning[i].ToString(), toolCalls),
                logprobs[i] is { } l ? new ChatLogprobs(l) : null,
                finish[i] ?? "stop");
        }

        return new ChatCompletionResponse(r.Id, "chat.completion", r.Created, r.Model, choices, r.Usage());
    }

    private static ChatCompletionChunk Chunk(ResponseContext r, IReadOnlyList<ChatChunkChoice> choices, Usage? usage = null) =>
        new(r.Id, "chat.completion.chunk", r.Created, r.Model, choices, usage);

    /// <summary>
    /// The tool-call deltas of one push as the chunks OpenAI would send: a call's opening (index, id, type, name and
    /// <c>arguments: ""</c>) alone in its chunk, then its argument fragments, one entry per call index in a chunk
    /// (clients that read only the first entry of an index would otherwise lose fragments).
    /// </summary>
    private static List<List<ToolCallChunk>> ToChunks(IReadOnlyList<Parsers.ToolCallDelta> deltas)
    {
        var parts = new List<List<ToolCallChunk>>(2);
        List<ToolCallChunk>? current = null;
        foreach (var d in deltas)
        {
            if (d.Id is not null)
            {
                parts.Add([new ToolCallChunk(d.Index, d.Id, "function", new FunctionCallChunk(d.Name, ""))]);
                current = null;
                if (!string.IsNullOrEmpty(d.ArgumentsDelta))
                {
                    parts.Add(current = [new ToolCallChunk(d.Index, null, null, new FunctionCallChunk(null, d.ArgumentsDelta))]);
                }

                continue;
            }

            if (current is null || current.Exists(c => c.Index == d.Index))
            {
                parts.Add(current = []);
            }

            current.Add(new ToolCallChunk(d.Index, null, null, new FunctionCallChunk(null, d.ArgumentsDelta)));
        }

        return parts;
    }

    private static ChatTokenLogprob ToChat(TokenLogprob lp) =>
        new(lp.Token, lp.Logprob, Bytes(lp.Bytes), [.. lp.Top.Select(t => new ChatTopLogprob(t.Token, t.Logprob, Bytes(t.Bytes)))]);

    private static int[] Bytes(byte[] bytes) => Array.ConvertAll(bytes, b => (int)b);
}
