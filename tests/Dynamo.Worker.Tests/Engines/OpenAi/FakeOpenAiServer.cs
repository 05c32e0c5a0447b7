using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dynamo.Worker.Tests.Engines.OpenAi;

internal enum FakeMode
{
    /// <summary>Token ids as vLLM returns them (when return_tokens_as_token_ids is set).</summary>
    Normal,

    /// <summary>Text chunks only, no logprobs: llama.cpp's server without token output.</summary>
    TextOnly,

    /// <summary>
    /// Text only, the whole text cut into chunks of <see cref="FakeOpenAiServer.SplitChunkChars"/> characters, so
    /// words are split across chunks as a server streaming sub-word tokens does.
    /// </summary>
    TextSplitWords,

    /// <summary>400 with an OpenAI error body.</summary>
    Reject400,

    /// <summary>500 with an error body.</summary>
    Fail500,

    /// <summary>Answers with one JSON completion even when asked to stream (a server that ignores stream: true).</summary>
    IgnoreStream,

    /// <summary>Two tokens, then (once <see cref="FakeOpenAiServer.ReleaseBreak"/> is called) the connection is aborted.</summary>
    BreakMidStream,
}

/// <summary>
/// A small OpenAI-compatible server on 127.0.0.1 (free port) answering <c>/v1/completions</c>, streamed or not, with
/// a deterministic token sequence that depends on the prompt (<see cref="ExpectedTokens"/>). It honours max_tokens,
/// stop_token_ids, logprobs and return_tokens_as_token_ids, and records every request body and every abort.
/// </summary>
internal sealed class FakeOpenAiServer : IAsyncDisposable
{
    public const int CachedTokens = 4;

    /// <summary>Chunk length of <see cref="FakeMode.TextSplitWords"/>: prime, so cuts fall at every offset within a word.</summary>
    public const int SplitChunkChars = 3;

    private static readonly string[] s_words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "again"];
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _break = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakeOpenAiServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public FakeMode Mode { get; set; }

    /// <summary>Pause before each token (cancellation and queueing tests).</summary>
    public TimeSpan TokenDelay { get; set; }

    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    public ConcurrentQueue<string?> Authorizations { get; } = new();

    /// <summary>Completes when a client aborts a streaming request before it finished.</summary>
    public Task Aborted => _aborted.Task;

    /// <summary>Lets a <see cref="FakeMode.BreakMidStream"/> response break, after the client has seen its tokens.</summary>
    public void ReleaseBreak() => _break.TrySetResult();

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeOpenAiServer(app);
        app.MapPost("/v1/completions", server.CompleteAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseUrl = new Uri(address);
        return server;
    }

    /// <summary>The tokens this server generates for a prompt, before max_tokens or a stop token ends them.</summary>
    public static int ExpectedToken(IReadOnlyList<int> prompt, int index)
    {
        var seed = 0L;
        foreach (var token in prompt)
        {
            seed = (seed * 31 + token) % 1_000_003;
        }

        return 10 + (int)((seed + index * 7_919L) % 500);
    }

    public static int[] ExpectedTokens(IReadOnlyList<int> prompt, int count) =>
        [.. Enumerable.Range(0, count).Select(i => ExpectedToken(prompt, i))];

    /// <summary>The text of token <paramref name="index"/> in text-only mode.</summary>
    public static string Word(IReadOnlyList<int> prompt, int index) => " " + s_words[ExpectedToken(prompt, index) % s_words.Length];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task CompleteAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        Requests.Enqueue(body);
        Authorizations.Enqueue(context.Request.Headers.Authorization.FirstOrDefault());
        switch (Mode)
        {
            case FakeMode.Reject400:
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(new { error = new { message = "This model's maximum context length is 8 tokens.", type = "BadRequestError", code = 400 } });
                return;
            case FakeMode.Fail500:
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("engine crashed");
                return;
        }

        var prompt = body["prompt"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
        var maxTokens = body["max_tokens"]!.GetValue<int>();
        var stops = body["stop_token_ids"]?.AsArray().Select(n => n!.GetValue<int>()).ToHashSet() ?? [];
        var logprobs = body["logprobs"]?.GetValue<int>();
        var asIds = Mode is not (FakeMode.TextOnly or FakeMode.TextSplitWords) && body["return_tokens_as_token_ids"]?.GetValue<bool>() == true;
        var tokens = new List<int>();
        var finish = "length";
        for (var i = 0; i < maxTokens; i++)
        {
            tokens.Add(ExpectedToken(prompt, i));
            if (stops.Contains(tokens[^1]))
            {
                finish = "stop";
                break;
            }
        }

        if (body["stream"]?.GetValue<bool>() != true || Mode == FakeMode.IgnoreStream)
        {
            await context.Response.WriteAsJsonAsync(new JsonObject
            {
                ["object"] = "text_completion",
                ["choices"] = new JsonArray(Choice(prompt, tokens, 0, tokens.Count, logprobs, asIds, finish)),
                ["usage"] = Usage(prompt.Length, tokens.Count),
            });
            return;
        }

        if (Mode == FakeMode.TextSplitWords)
        {
            context.Response.ContentType = "text/event-stream";
            await WriteSplitTextAsync(context, string.Concat(Enumerable.Range(0, tokens.Count).Select(i => Word(prompt, i))), finish);
            await WriteEventAsync(context, new JsonObject { ["choices"] = new JsonArray(), ["usage"] = Usage(prompt.Length, tokens.Count) }.ToJsonString());
            await WriteEventAsync(context, "[DONE]");
            return;
        }

        var continuous = body["stream_options"]?["continuous_usage_stats"]?.GetValue<bool>() == true;
        context.Response.ContentType = "text/event-stream";
        try
        {
            for (var i = 0; i < tokens.Count; i++)
            {
                if (TokenDelay > TimeSpan.Zero)
                {
                    await Task.Delay(TokenDelay, context.RequestAborted);
                }

                if (Mode == FakeMode.BreakMidStream && i == 2)
                {
                    await _break.Task.WaitAsync(context.RequestAborted);
                    context.Abort();
                    return;
                }

                var chunk = new JsonObject
                {
                    ["object"] = "text_completion",
                    ["choices"] = new JsonArray(Choice(prompt, tokens, i, 1, logprobs, asIds, i == tokens.Count - 1 ? finish : null)),
                };
                if (continuous)
                {
                    chunk["usage"] = Usage(prompt.Length, i + 1);
                }

                await WriteEventAsync(context, chunk.ToJsonString());
            }

            await WriteEventAsync(context, new JsonObject { ["choices"] = new JsonArray(), ["usage"] = Usage(prompt.Length, tokens.Count) }.ToJsonString());
            await WriteEventAsync(context, "[DONE]");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            _aborted.TrySetResult();
        }
    }

    private static JsonObject Choice(int[] prompt, List<int> tokens, int start, int count, int? logprobs, bool asIds, string? finish)
    {
        var text = new StringBuilder();
        var names = new JsonArray();
        var values = new JsonArray();
        var tops = new JsonArray();
        for (var i = start; i < start + count; i++)
        {
            var word = Word(prompt, i);
            text.Append(word);
            names.Add(asIds ? $"token_id:{tokens[i]}" : word);
            values.Add(Logprob(i));
            var top = new JsonObject();
            for (var k = 0; k <= (logprobs ?? 0); k++)
            {
                // The sampled token plus the top n, as vLLM lists them (the sampled one may also be in the top n).
                top[asIds ? $"token_id:{tokens[i] + k}" : $"{word}{k}"] = Logprob(i) - k;
            }

            tops.Add(top);
        }

        var choice = new JsonObject { ["index"] = 0, ["text"] = text.ToString(), ["finish_reason"] = finish };
        if (logprobs is not null && asIds)
        {
            choice["logprobs"] = new JsonObject { ["tokens"] = names, ["token_logprobs"] = values, ["top_logprobs"] = tops };
        }

        return choice;
    }

    private static async Task WriteSplitTextAsync(HttpContext context, string text, string finish)
    {
        for (var start = 0; start < text.Length; start += SplitChunkChars)
        {
            var end = Math.Min(text.Length, start + SplitChunkChars);
            var choice = new JsonObject { ["index"] = 0, ["text"] = text[start..end], ["finish_reason"] = end == text.Length ? finish : null };
            await WriteEventAsync(context, new JsonObject { ["object"] = "text_completion", ["choices"] = new JsonArray(choice) }.ToJsonString());
        }
    }

    public static float Logprob(int index) => -0.125f * (index + 1);

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = CachedTokens },
    };

    private static async Task WriteEventAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync($"data: {data}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
