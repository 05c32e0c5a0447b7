using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Dynamo.Replay;

/// <summary>What one replayed request measured; <see cref="Error"/> is set when it did not complete.</summary>
/// <param name="WaitMs">
/// Time between the request's scheduled arrival and its send (the concurrency gate or a late sender), so an SLA can
/// be judged from arrival as a user would see it, not only from the send.
/// </param>
public sealed record RequestResult(
    double TtftMs, IReadOnlyList<double> ItlMs, double E2eMs, int PromptTokens, int CachedTokens, int OutputTokens,
    string? RoutingHeader, string? Error, double WaitMs = 0)
{
    /// <summary>Mean gap between tokens after the first (0 for a single-token answer): the per-request ITL an SLA bounds.</summary>
    public double MeanItlMs => ItlMs.Count == 0 ? 0 : ItlMs.Average();

    /// <summary>True when the request completed with TTFT from arrival and mean ITL both within target.</summary>
    public bool MeetsSla(double ttftMs, double itlMs) => Error is null && WaitMs + TtftMs <= ttftMs && MeanItlMs <= itlMs;
}

/// <summary>Sends trace requests to the router on the trace's schedule, streaming, with bounded concurrency.</summary>
public sealed class ReplayClient(HttpClient http, Uri router, string model, string policy, int concurrency)
{
    /// <param name="drain">
    /// How long requests may still stream after the last send; then they are cancelled and reported as failed, so a
    /// saturated run (queues growing faster than they drain) ends in bounded time. Null waits for every request.
    /// </param>
    public async Task<List<RequestResult>> ReplayAsync(
        IReadOnlyList<(TraceRequest Trace, ReplayPrompt Prompt)> requests, double timeScale, TimeSpan maxDuration,
        CancellationToken cancellationToken, TimeSpan? drain = null)
    {
        using var gate = new SemaphoreSlim(concurrency);
        using var drained = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var start = Stopwatch.GetTimestamp();
        var t0 = requests[0].Trace.TimestampMs;
        var tasks = new List<Task<RequestResult>>();
        foreach (var (trace, prompt) in requests)
        {
            var due = TimeSpan.FromMilliseconds((trace.TimestampMs - t0) / timeScale);
            if (due > maxDuration)
            {
                break;
            }

            var wait = due - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            await gate.WaitAsync(cancellationToken);
            if (Stopwatch.GetElapsedTime(start) > maxDuration)
            {
                gate.Release();
                break;
            }

            var late = (Stopwatch.GetElapsedTime(start) - due).TotalMilliseconds;
            tasks.Add(SendReleasingAsync(prompt, Math.Max(0, late), gate, drained.Token));
        }

        if (drain is { } limit)
        {
            drained.CancelAfter(limit);
        }

        return [.. await Task.WhenAll(tasks)];
    }

    /// <summary>
    /// Sends <paramref name="rounds"/> short requests pinned to each worker (<c>nvext.backend_instance_id</c>) before the
    /// measured replay, so JIT compilation, connection set-up and first-request costs of every process are not charged to
    /// the first trace requests (they took ~3 s each in a cold cluster). The prompts are shorter than one KV block, so
    /// they leave nothing in the caches that a trace request could hit.
    /// </summary>
    /// <exception cref="InvalidOperationException">A warm-up request failed: the cluster is not serving.</exception>
    public async Task WarmUpAsync(IReadOnlyList<string> workerIds, int rounds, int blockTokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workerIds);
        for (var round = 0; round < rounds; round++)
        {
            var sends = workerIds.Select((id, w) => SendAsync(WarmUpPrompt(round, w, blockTokens), cancellationToken, id));
            if ((await Task.WhenAll(sends)).FirstOrDefault(static r => r.Error is not null) is { } failed)
            {
                throw new InvalidOperationException($"A warm-up request failed: {failed.Error}");
            }
        }
    }

    // Fewer tokens than one KV block, so nothing is registered for reuse.
    private static ReplayPrompt WarmUpPrompt(int round, int worker, int blockTokens)
    {
        var length = Math.Max(1, Math.Min(64, blockTokens - 1));
        var tokens = Enumerable.Range(0, length).Select(k => 1_000 + ((round * 7_919) + (worker * 104_729) + (k * 31)) % 20_000).ToArray();
        return new ReplayPrompt(tokens, 4, [], 0);
    }

    private async Task<RequestResult> SendReleasingAsync(ReplayPrompt prompt, double waitMs, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(prompt, cancellationToken) with { WaitMs = waitMs };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new RequestResult(0, [], 0, 0, 0, 0, null, "unfinished at the drain deadline (or the run was cancelled)", waitMs);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException)
        {
            return new RequestResult(0, [], 0, 0, 0, 0, null, e.Message);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<RequestResult> SendAsync(ReplayPrompt prompt, CancellationToken cancellationToken, string? pinnedWorker = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(router, "/v1/completions"))
        {
            Content = new ByteArrayContent(Body(prompt, pinnedWorker)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        var sent = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var error = await response.Content.ReadAsStringAsync(cancellationToken);
            return new RequestResult(0, [], 0, 0, 0, 0, null, $"{(int)response.StatusCode}: {error}");
        }

        var routing = response.Headers.TryGetValues("x-dynamo-routing", out var values) ? string.Join(",", values) : null;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        double ttft = -1, last = 0;
        var itl = new List<double>();
        int promptTokens = 0, cached = 0, output = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]")
            {
                continue;
            }

            var now = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            using var chunk = JsonDocument.Parse(line.AsMemory(6));
            var root = chunk.RootElement;
            if (root.TryGetProperty("error", out var err))
            {
                return new RequestResult(0, [], 0, 0, 0, 0, routing, err.ToString());
            }

            if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0)
            {
                if (ttft < 0)
                {
                    ttft = now;
                }
                else
                {
                    itl.Add(now - last);
                }

                last = now;
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                promptTokens = usage.GetProperty("prompt_tokens").GetInt32();
                output = usage.GetProperty("completion_tokens").GetInt32();
                if (usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
                    && details.TryGetProperty("cached_tokens", out var c))
                {
                    cached = c.GetInt32();
                }
            }
        }

        var e2e = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
        return ttft < 0
            ? new RequestResult(0, [], 0, 0, 0, 0, routing, "the stream ended without a token")
            : new RequestResult(ttft, itl, e2e, promptTokens, cached, output, routing, null);
    }

    /// <summary>
    /// The request body, written directly: a real-length prompt is tens of thousands of token ids, and a JsonNode per
    /// id would make this process (which shares the cores with the cluster it measures) a noticeable CPU load.
    /// </summary>
    private byte[] Body(ReplayPrompt prompt, string? pinnedWorker)
    {
        var buffer = new ArrayBufferWriter<byte>(prompt.Tokens.Length * 6 + 256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            json.WriteStartArray("prompt");
            foreach (var token in prompt.Tokens)
            {
                json.WriteNumberValue(token);
            }

            json.WriteEndArray();
            json.WriteNumber("max_tokens", prompt.MaxTokens);
            json.WriteBoolean("ignore_eos", true);
            json.WriteNumber("temperature", 0);
            json.WriteBoolean("stream", true);
            json.WriteStartObject("stream_options");
            json.WriteBoolean("include_usage", true);
            json.WriteEndObject();
            json.WriteStartObject("nvext");
            json.WriteString("routing_policy", policy);
            if (pinnedWorker is not null)
            {
                json.WriteString("backend_instance_id", pinnedWorker);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
