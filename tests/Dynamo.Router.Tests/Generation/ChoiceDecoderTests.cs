using Dynamo.Router.Generation;
using Dynamo.Router.Parsers;
using Dynamo.Router.Tests.Api;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Generation;
using Dynamo.Runtime.Tokenization;

namespace Dynamo.Router.Tests.Generation;

public sealed class ChoiceDecoderTests
{
    private static readonly Lazy<ITokenizer> s_tokenizer = new(() => Tokenizer.FromFile(RouterCluster.ModelPath));

    private static ITokenizer Vocab => s_tokenizer.Value;

    [Fact]
    public void Add_TokensOfAText_ReproducesItAndCountsTokensAndCachedPrompt()
    {
        var ids = Vocab.Encode("The quick brown fox", addSpecial: false);
        var decoder = new ChoiceDecoder(0, Vocab, [], null, logprobs: false);

        var text = string.Concat(ids.Select((id, i) => decoder.Add(new GenerateEvent(id, i, i == ids.Length - 1 ? "length" : null, i == 0 ? 32 : null, null)).Delta.Content));

        Assert.Equal(" The quick brown fox", text);
        Assert.Equal(ids.Length, decoder.CompletionTokens);
        Assert.Equal(32, decoder.CachedTokens);
        Assert.Equal("length", decoder.FinishReason);
    }

    [Fact]
    public void Add_StopStringSpanningTokens_FinishesWithStopBeforeTheWorkerDoes()
    {
        var ids = Vocab.Encode("one two three four", addSpecial: false);
        var decoder = new ChoiceDecoder(0, Vocab, ["two th"], null, logprobs: false);
        var shown = "";
        ChoiceUpdate? last = null;
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            last = decoder.Add(new GenerateEvent(id, i, null, null, null));
            shown += last.Delta.Content;
            if (last.FinishReason is not null)
            {
                break;
            }
        }

        Assert.Equal(" one ", shown);
        Assert.Equal("stop", last!.FinishReason);
    }

    [Fact]
    public void Add_ParserSawToolCalls_FinishesWithToolCalls()
    {
        var decoder = new ChoiceDecoder(0, Vocab, [], new CallingParser(), logprobs: false);
        var id = Vocab.Encode("call", addSpecial: false)[0];

        var update = decoder.Add(new GenerateEvent(id, 0, "stop", null, null));

        Assert.Equal("tool_calls", update.FinishReason);
        Assert.Equal("get_weather", Assert.Single(update.Delta.ToolCalls).Name);
    }

    [Fact]
    public void Add_WithLogprobs_DescribesTheTokenAndItsAlternatives()
    {
        var decoder = new ChoiceDecoder(0, Vocab, [], null, logprobs: true);
        var hello = Vocab.Encode("hello", addSpecial: false)[0];
        var world = Vocab.Encode("world", addSpecial: false)[0];

        var update = decoder.Add(new GenerateEvent(hello, 0, null, null, null, -0.5f, [new GenerateTopLogprob(hello, -0.5f), new GenerateTopLogprob(world, -1.5f)]));

        Assert.Equal(-0.5f, update.Logprob!.Logprob);
        Assert.Equal(Vocab.TokenToPiece(hello).ToArray(), update.Logprob.Bytes);
        Assert.Equal([hello, world], update.Logprob.Top.Select(t => t.TokenId));
    }

    [Fact]
    public void Add_LogprobsAskedButWorkerSentNone_FailsClearly()
    {
        var decoder = new ChoiceDecoder(0, Vocab, [], null, logprobs: true);

        var error = Assert.Throws<WorkerRequestException>(() => decoder.Add(new GenerateEvent(5, 0, null, null, null)));

        Assert.Equal("logprobs", error.Error.Param);
    }

    /// <summary>Reports one tool call on the stream's end, as a tool-call parser would.</summary>
    private sealed class CallingParser : IOutputParser
    {
        public bool SawToolCalls { get; private set; }

        public ParsedDelta Push(string text) => ParsedDelta.Empty;

        public ParsedDelta Finish()
        {
            SawToolCalls = true;
            return new ParsedDelta(null, null, [new ToolCallDelta(0, "call_1", "get_weather", "{}")]);
        }
    }
}
