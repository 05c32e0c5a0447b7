using System.Text;
using System.Threading.Channels;
using Dynamo.TestSupport;
using Dynamo.Runtime.Tokenization;
using Dynamo.Worker.Engines.OpenAi;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Tests.Engines.OpenAi;

/// <summary>Stream shapes the fake server does not produce: several tokens per chunk, a finish-only chunk, error chunks.</summary>
public sealed class OpenAiCompletionStreamTests
{
    private static readonly SchedulerRequest Request = new("r", [1, 2, 3], 8, new SamplingParams());

    [Fact]
    public async Task CopyAsync_SeveralTokensPerChunkAndFinishInItsOwnChunk_LastTokenCarriesFinishAndUsage()
    {
        var outputs = await CopyAsync(
            """data: {"choices":[{"index":0,"text":"ab","logprobs":{"tokens":["token_id:5","token_id:6"],"token_logprobs":[-1,-2]},"finish_reason":null}]}""",
            """data: {"choices":[{"index":0,"text":"c","logprobs":{"tokens":["token_id:7"],"token_logprobs":[-3]},"finish_reason":null}]}""",
            """data: {"choices":[{"index":0,"text":"","finish_reason":"stop"}]}""",
            """data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":2}}}""",
            "data: [DONE]");

        Assert.Equal([5, 6, 7], outputs.Select(o => o.TokenId));
        Assert.Equal([null, null, SchedulerFinishReason.Stop], outputs.Select(o => o.FinishReason));
        Assert.Equal(new SchedulerUsage(3, 3, 2), outputs[^1].Usage);
        Assert.All(outputs, o => Assert.Null(o.Logprob));
    }

    [Fact]
    public async Task CopyAsync_ErrorChunkMidStream_FlushesTheTokensThenFailsWithTheServersMessage()
    {
        var channel = Channel.CreateUnbounded<SchedulerOutput>();

        var error = await Assert.ThrowsAsync<OpenAiStreamException>(() => CopyAsync(channel,
            """data: {"choices":[{"index":0,"text":"a","logprobs":{"tokens":["token_id:5"]},"finish_reason":null}]}""",
            """data: {"error":{"message":"CUDA out of memory","type":"InternalServerError"}}"""));

        Assert.Contains("CUDA out of memory", error.Message, StringComparison.Ordinal);
        Assert.True(channel.Reader.TryRead(out var flushed));
        Assert.Equal(5, flushed.TokenId);
        Assert.Null(flushed.FinishReason);
    }

    [Fact]
    public async Task CopyAsync_EndsWithoutFinishReason_Fails()
    {
        var error = await Assert.ThrowsAsync<OpenAiStreamException>(() => CopyAsync(
            """data: {"choices":[{"index":0,"text":"a","logprobs":{"tokens":["token_id:5"]},"finish_reason":null}]}"""));

        Assert.Contains("without a finish reason", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CopyAsync_AbortFinishReason_FailsRatherThanEndingNormally()
    {
        await Assert.ThrowsAsync<OpenAiStreamException>(() => CopyAsync(
            """data: {"choices":[{"index":0,"text":"a","logprobs":{"tokens":["token_id:5"]},"finish_reason":"abort"}]}""",
            "data: [DONE]"));
    }

    [Fact]
    public async Task CopyAsync_TextChunksSplitInsideAWord_TokensAreTheEncodingOfTheWholeText()
    {
        var tokenizer = Tokenizer.FromFile(Path.Combine(RepoPaths.Root, "models", "vocab", "llama-spm.gguf"));

        var outputs = await CopyAsync(tokenizer,
            """data: {"choices":[{"index":0,"text":" hel","finish_reason":null}]}""",
            """data: {"choices":[{"index":0,"text":"lo wor","finish_reason":null}]}""",
            """data: {"choices":[{"index":0,"text":"ld","finish_reason":"length"}]}""",
            "data: [DONE]");

        Assert.Equal(tokenizer.Encode(" hello world", addSpecial: false), outputs.Select(o => o.TokenId));
        Assert.Equal(SchedulerFinishReason.Length, outputs[^1].FinishReason);
        Assert.Equal(outputs.Count, outputs[^1].Usage.CompletionTokens);
    }

    private static Task<List<SchedulerOutput>> CopyAsync(params string[] lines) => CopyAsync((ITokenizer?)null, lines);

    private static async Task<List<SchedulerOutput>> CopyAsync(ITokenizer? tokenizer, params string[] lines)
    {
        var channel = Channel.CreateUnbounded<SchedulerOutput>();
        await CopyAsync(channel, tokenizer, lines);
        var outputs = new List<SchedulerOutput>();
        while (channel.Reader.TryRead(out var output))
        {
            outputs.Add(output);
        }

        return outputs;
    }

    private static Task CopyAsync(Channel<SchedulerOutput> channel, params string[] lines) => CopyAsync(channel, null, lines);

    private static async Task CopyAsync(Channel<SchedulerOutput> channel, ITokenizer? tokenizer, string[] lines)
    {
        using var body = new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n\n", lines) + "\n\n"));
        await new OpenAiCompletionStream(Request, tokenizer, "http://upstream").CopyAsync(body, channel.Writer, CancellationToken.None);
    }
}
