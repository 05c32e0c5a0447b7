using System.Text;
using Dynamo.Router.Parsers;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Generation;
using Dynamo.Runtime.Tokenization;

namespace Dynamo.Router.Generation;

/// <summary>One token's alternatives as the client sees them: text, raw bytes, log-probability.</summary>
internal sealed record TokenLogprob(int TokenId, string Token, byte[] Bytes, float Logprob, IReadOnlyList<TokenLogprob> Top);

/// <summary>What one worker event produced for one choice (any part may be empty).</summary>
internal sealed record ChoiceUpdate(int Choice, ParsedDelta Delta, TokenLogprob? Logprob, string? FinishReason);

/// <summary>
/// Turns one choice's token stream into client text: streaming detokenization (no split characters), stop
/// strings (held back across pieces, then cut), then the output parser (content / reasoning / tool calls).
/// Counts completion and cached tokens, which the router reports itself because a stop string cuts the
/// worker's stream before its usage event.
/// </summary>
internal sealed class ChoiceDecoder
{
    private readonly int _choice;
    private readonly ITokenizer _tokenizer;
    private readonly StreamingDetokenizer _detokenizer;
    private readonly StopStringMatcher _stops;
    private readonly IOutputParser? _parser;
    private readonly bool _logprobs;

    public ChoiceDecoder(int choice, ITokenizer tokenizer, IReadOnlyList<string> stops, IOutputParser? parser, bool logprobs)
    {
        _choice = choice;
        _tokenizer = tokenizer;
        _detokenizer = tokenizer.CreateStreamingDetokenizer();
        _stops = new StopStringMatcher(stops);
        _parser = parser;
        _logprobs = logprobs;
    }

    public int CompletionTokens { get; private set; }

    /// <summary>Prompt tokens the worker served from its prefix cache (reported on its first event).</summary>
    public int CachedTokens { get; private set; }

    public string? FinishReason { get; private set; }

    public ChoiceUpdate Add(GenerateEvent e)
    {
        if (CompletionTokens == 0)
        {
            CachedTokens = e.CachedTokens ?? e.Usage?.CachedTokens ?? 0;
        }

        CompletionTokens++;
        var finish = e.FinishReason;
        var text = _detokenizer.Add(e.TokenId);
        if (finish is not null)
        {
            text += _detokenizer.Flush();
        }

        var shown = _stops.Push(text);
        if (_stops.Stopped)
        {
            finish = "stop";
        }
        else if (finish is not null)
        {
            shown += _stops.Flush();
        }

        var delta = Parse(shown, finish is not null);
        if (finish is not null)
        {
            FinishReason = finish == "stop" && _parser is { SawToolCalls: true } ? "tool_calls" : finish;
        }

        return new ChoiceUpdate(_choice, delta, _logprobs ? Logprob(e) : null, FinishReason);
    }

    private ParsedDelta Parse(string text, bool last)
    {
        if (_parser is null)
        {
            return text.Length == 0 ? ParsedDelta.Empty : new ParsedDelta(text, null, []);
        }

        var delta = text.Length == 0 ? ParsedDelta.Empty : _parser.Push(text);
        return last ? Merge(delta, _parser.Finish()) : delta;
    }

    internal static ParsedDelta Merge(ParsedDelta a, ParsedDelta b) =>
        a.IsEmpty ? b
        : b.IsEmpty ? a
        : new ParsedDelta(Concat(a.Content, b.Content), Concat(a.Reasoning, b.Reasoning), [.. a.ToolCalls, .. b.ToolCalls]);

    private static string? Concat(string? a, string? b) => a is null ? b : b is null ? a : a + b;

    private TokenLogprob Logprob(GenerateEvent e)
    {
        var top = e.TopLogprobs is { Count: > 0 } alternatives
            ? alternatives.Select(t => Describe(t.TokenId, t.Logprob, [])).ToArray()
            : [];
        var logprob = e.Logprob ?? throw new WorkerRequestException(System.Net.HttpStatusCode.BadGateway, null,
            new ApiError("The worker did not return log-probabilities; it predates logprobs support.", "server_error", "logprobs", null));
        return Describe(e.TokenId, logprob, top);
    }

    private TokenLogprob Describe(int token, float logprob, IReadOnlyList<TokenLogprob> top)
    {
        var bytes = _tokenizer.TokenToPiece(token).ToArray();
        return new TokenLogprob(token, Encoding.UTF8.GetString(bytes), bytes, logprob, top);
    }
}
