using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dynamo.Router.Generation;
using Dynamo.Router.Observability;

namespace Dynamo.Router.Api;

/// <summary>
/// What the response writers share for one request: its id and creation time, the run, and the token clock
/// that feeds time-to-first-token and inter-token latency.
/// </summary>
internal sealed class ResponseContext(string id, long created, string model, GenerationRun run, FrontendMetrics metrics, TimeProvider time, long startTimestamp)
{
    private readonly long[] _lastToken = new long[run.Plan.ChoiceCount];
    private bool _sawFirst;

    public string Id { get; } = id;

    public long Created { get; } = created;

    public string Model { get; } = model;

    public GenerationRun Run { get; } = run;

    /// <summary>Records TTFT for the request's first token and the gap since the previous token of the same choice.</summary>
    public void OnToken(int choice)
    {
        var now = time.GetTimestamp();
        if (!_sawFirst)
        {
            _sawFirst = true;
            metrics.FirstToken(Model, time.GetElapsedTime(startTimestamp, now));
        }
        else if (_lastToken[choice] != 0)
        {
            metrics.InterToken(Model, time.GetElapsedTime(_lastToken[choice], now));
        }

        _lastToken[choice] = now;
    }

    /// <summary>
    /// Usage as OpenAI counts it: each prompt once (however many choices it has), every generated token, and the
    /// prompt tokens a worker had cached (per prompt, the best of its choices).
    /// </summary>
    public Usage Usage()
    {
        var plan = Run.Plan;
        int prompt = 0, completion = 0, cached = 0;
        for (var p = 0; p < plan.Prompts.Count; p++)
        {
            prompt += plan.Prompts[p].Length;
            var best = 0;
            for (var j = 0; j < plan.N; j++)
            {
                var decoder = Run.Decoders[(p * plan.N) + j];
                completion += decoder.CompletionTokens;
                best = Math.Max(best, decoder.CachedTokens);
            }

            cached += Math.Min(best, plan.Prompts[p].Length);
        }

        return new Usage(prompt, completion, prompt + completion, new PromptTokensDetails(cached));
    }
}

/// <summary>Writes <c>data: {json}\n\n</c> events and flushes each, so tokens reach the client as they are made.</summary>
internal sealed class SseWriter(HttpResponse response) : IDisposable
{
    private readonly PipeWriter _pipe = response.BodyWriter;
    private readonly Utf8JsonWriter _json = new(response.BodyWriter);

    public static async Task<SseWriter> StartAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(cancellationToken).ConfigureAwait(false);
        return new SseWriter(response);
    }

    public async ValueTask WriteAsync<T>(T value, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        _pipe.Write("data: "u8);
        _json.Reset(_pipe);
        JsonSerializer.Serialize(_json, value, type);
        _json.Flush();
        _pipe.Write("\n\n"u8);
        await _pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask WriteDoneAsync(CancellationToken cancellationToken)
    {
        _pipe.Write("data: [DONE]\n\n"u8);
        await _pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _json.Dispose();
}
