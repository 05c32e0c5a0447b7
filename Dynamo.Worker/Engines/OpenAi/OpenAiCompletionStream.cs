using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Dynamo.Runtime.Tokenization;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Engines.OpenAi;

/// <summary>The upstream stream ended badly after the request was accepted; the API reports it as an error event.</summary>
public sealed class OpenAiStreamException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Turns one upstream completion stream (server-sent <c>data:</c> chunks, then <c>[DONE]</c>) into scheduler outputs.
/// The latest token is held back until the next one arrives, so the last output can carry the finish reason and the
/// usage that the server sends after it.
/// </summary>
internal sealed class OpenAiCompletionStream
{
    private const string TokenIdPrefix = "token_id:";

    private readonly SchedulerRequest _request;
    private readonly ITokenizer? _tokenizer;
    private readonly string _server;
    private readonly List<SchedulerOutput> _ready = [];
    private readonly StringBuilder _tail = new();
    private SchedulerOutput? _pending;
    private int _count;
    private bool _textCommitted;
    private int? _cachedTokens;
    private CompletionUsage? _usage;
    private string? _finishReason;

    public OpenAiCompletionStream(SchedulerRequest request, ITokenizer? tokenizer, string server)
    {
        _request = request;
        _tokenizer = tokenizer;
        _server = server;
    }

    public async Task CopyAsync(Stream body, ChannelWriter<SchedulerOutput> output, CancellationToken cancellationToken)
    {
        SchedulerOutput last;
        try
        {
            await ReadAsync(body, output, cancellationToken).ConfigureAwait(false);
            last = Finish();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever the server produced still reaches the client before the error, so a migration resends less.
            await WriteReadyAsync(output, cancellationToken).ConfigureAwait(false);
            if (_pending is not null)
            {
                await output.WriteAsync(_pending, cancellationToken).ConfigureAwait(false);
            }

            throw ex is IOException or HttpRequestException
                ? new OpenAiStreamException($"The stream from the OpenAI-compatible server at {_server} broke after {_count} tokens: {ex.Message}", ex)
                : ex;
        }

        await WriteReadyAsync(output, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(last, cancellationToken).ConfigureAwait(false);
    }

    private async Task ReadAsync(Stream body, ChannelWriter<SchedulerOutput> output, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue; // blank separators, comments (": ping"), event names
            }

            var data = line.AsSpan(5).Trim();
            if (data.SequenceEqual("[DONE]"))
            {
                return;
            }

            OnChunk(data);
            await WriteReadyAsync(output, cancellationToken).ConfigureAwait(false);
        }

        if (_finishReason is null)
        {
            throw new OpenAiStreamException($"The stream from the OpenAI-compatible server at {_server} ended after {_count} tokens without a finish reason.");
        }
    }

    private async ValueTask WriteReadyAsync(ChannelWriter<SchedulerOutput> output, CancellationToken cancellationToken)
    {
        foreach (var item in _ready)
        {
            await output.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }

        _ready.Clear();
    }

    private void OnChunk(ReadOnlySpan<char> data)
    {
        CompletionChunk? chunk;
        try
        {
            if (UpstreamErrors.TryRead(data, out var error))
            {
                throw new OpenAiStreamException($"The OpenAI-compatible server at {_server} failed the request after {_count} tokens: {error}");
            }

            chunk = JsonSerializer.Deserialize(data, OpenAiJsonContext.Default.CompletionChunk);
        }
        catch (JsonException ex)
        {
            throw new OpenAiStreamException($"The OpenAI-compatible server at {_server} sent a chunk that is not a completion: {ex.Message}", ex);
        }

        if (chunk?.Usage is { } usage)
        {
            _usage = usage;
            _cachedTokens ??= usage.PromptTokensDetails?.CachedTokens;
        }

        if (chunk?.Choices is not { Count: > 0 } choices)
        {
            return;
        }

        // n = 1: the worker asks for one completion, so only choice 0 exists.
        var choice = choices[0];
        if (TryReadTokenIds(choice.Logprobs, out var ids))
        {
            for (var i = 0; i < ids.Count; i++)
            {
                Push(ids[i], choice.Logprobs!, i);
            }
        }
        else if (!string.IsNullOrEmpty(choice.Text))
        {
            OnText(choice.Text);
        }

        _finishReason ??= choice.FinishReason;
    }

    private static bool TryReadTokenIds(CompletionLogprobs? logprobs, out List<int> ids)
    {
        ids = [];
        if (logprobs?.Tokens is not { Count: > 0 } tokens)
        {
            return false;
        }

        foreach (var token in tokens)
        {
            if (!TryParseTokenId(token, out var id))
            {
                return false;
            }

            ids.Add(id);
        }

        return true;
    }

    private static bool TryParseTokenId(string token, out int id)
    {
        id = 0;
        return token.StartsWith(TokenIdPrefix, StringComparison.Ordinal)
            && int.TryParse(token.AsSpan(TokenIdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }

    /// <summary>
    /// Text-only servers: text is committed up to the last word boundary (see <see cref="LastBoundary"/>) and only
    /// that segment is encoded, so each chunk costs its own length and tokens already sent never change; the
    /// uncommitted tail (at most the last word) waits for more text or <see cref="Finish"/>.
    /// </summary>
    private void OnText(string text)
    {
        if (_tokenizer is null)
        {
            throw new OpenAiStreamException(
                $"The OpenAI-compatible server at {_server} returned text without token ids (it ignores return_tokens_as_token_ids). " +
                "Set Worker:OpenAi:Tokens to Text and Worker:ModelPath to a GGUF file with the served model's tokenizer.");
        }

        var scanFrom = Math.Max(1, _tail.Length - 1);
        _tail.Append(text);
        var boundary = LastBoundary(_tail, scanFrom);
        if (boundary > 0)
        {
            CommitText(_tail.ToString(0, boundary));
            _tail.Remove(0, boundary);
        }
    }

    /// <summary>
    /// The last index i ≥ <paramref name="from"/> where a single space sits between two non-space characters: every
    /// pre-tokenizer in use (GPT-2 style regexes, SentencePiece's ▁ prefix) starts a new piece at such a space, so
    /// encoding the text on either side separately gives the tokens of the whole. Positions before
    /// <paramref name="from"/> were scanned when their text arrived. 0 when there is none.
    /// </summary>
    private static int LastBoundary(StringBuilder tail, int from)
    {
        for (var i = tail.Length - 2; i >= from; i--)
        {
            if (tail[i] == ' ' && !char.IsWhiteSpace(tail[i - 1]) && !char.IsWhiteSpace(tail[i + 1]))
            {
                return i;
            }
        }

        return 0;
    }

    private void CommitText(string segment)
    {
        var tokenizer = _tokenizer!;

        // SentencePiece puts a ▁ before the text it encodes; after the first segment that ▁ must be the segment's own
        // leading space (a boundary always starts a segment with one), not a second one.
        var continuation = _textCommitted && tokenizer.Model == TokenizerModel.Spm && tokenizer.AddSpacePrefix && segment.StartsWith(' ');
        var ids = tokenizer.Encode(continuation ? segment[1..] : segment, addSpecial: false);
        _textCommitted = true;
        foreach (var id in ids)
        {
            Push(id, null, 0);
        }
    }

    private void Push(int tokenId, CompletionLogprobs? logprobs, int index)
    {
        if (_pending is not null)
        {
            _ready.Add(_pending);
        }

        _count++;
        var cached = _cachedTokens ?? 0;
        var sampling = _request.Sampling;
        float? logprob = sampling.Logprobs && logprobs?.TokenLogprobs is { } values && index < values.Count ? values[index] : null;
        var top = sampling.Logprobs && sampling.TopLogprobs > 0 && logprobs?.TopLogprobs is { } tops && index < tops.Count && tops[index] is { } alternatives
            ? TopLogprobs(alternatives, sampling.TopLogprobs)
            : null;
        _pending = new SchedulerOutput(tokenId, null, cached, new SchedulerUsage(_request.PromptTokens.Length, _count, cached), logprob, top);
    }

    private static TokenLogprob[] TopLogprobs(Dictionary<string, float> alternatives, int count)
    {
        var list = new List<TokenLogprob>(alternatives.Count);
        foreach (var (key, value) in alternatives)
        {
            if (TryParseTokenId(key, out var id))
            {
                list.Add(new TokenLogprob(id, value));
            }
        }

        // vLLM lists the sampled token beside the top n, so there may be one more than asked for.
        list.Sort(static (a, b) => b.Logprob != a.Logprob ? b.Logprob.CompareTo(a.Logprob) : a.TokenId.CompareTo(b.TokenId));
        return [.. list.Take(count)];
    }

    /// <summary>Queues what is still held back in <see cref="_ready"/> and returns the final output.</summary>
    private SchedulerOutput Finish()
    {
        if (_tail.Length > 0 && _tokenizer is not null)
        {
            CommitText(_tail.ToString());
            _tail.Clear();
        }

        var last = _pending ?? throw new OpenAiStreamException(
            $"The OpenAI-compatible server at {_server} finished (reason '{_finishReason}') without generating a token.");
        var reason = _finishReason switch
        {
            "length" => SchedulerFinishReason.Length,
            null or "abort" or "error" => throw new OpenAiStreamException(
                $"The OpenAI-compatible server at {_server} ended the request after {_count} tokens with finish reason '{_finishReason ?? "none"}'."),
            _ => SchedulerFinishReason.Stop,
        };
        var cached = _usage?.PromptTokensDetails?.CachedTokens ?? _cachedTokens ?? 0;
        var usage = new SchedulerUsage(_usage?.PromptTokens ?? _request.PromptTokens.Length, _usage?.CompletionTokens ?? _count, cached);
        return last with { FinishReason = reason, Usage = usage };
    }
}
