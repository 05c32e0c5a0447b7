using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Dynamo.Runtime.Generation;
using Dynamo.Runtime.Hashing;
using Dynamo.Worker.Api;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Scheduling;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Disaggregation;

/// <summary>
/// Prefill side of <c>POST /v1/internal/prefill</c>: computes the prompt through the normal scheduler (so prefix
/// reuse, batching and KV events apply) while pushing each full block to the decode worker as it is computed.
/// Answers when the decode worker acknowledged the last block; a client disconnect cancels the prefill and the push.
/// </summary>
public sealed partial class KvPrefillService : IDisposable
{
    private readonly WorkerEngineHost _host;
    private readonly KvTransferRegistry _budget;
    private readonly KvTransferLayoutProvider _layout;
    private readonly TimeProvider _time;
    private readonly ILogger<KvPrefillService> _logger;
    private readonly HttpClient _client;
    private readonly HttpVersionPolicy _versionPolicy;

    public KvPrefillService(
        WorkerEngineHost host,
        KvTransferRegistry budget,
        KvTransferLayoutProvider layout,
        IOptions<DisaggregationOptions> options,
        IOptions<WorkerOptions> worker,
        TimeProvider time,
        ILogger<KvPrefillService> logger)
    {
        _host = host;
        _budget = budget;
        _layout = layout;
        _time = time;
        _logger = logger;
        _client = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromMilliseconds(options.Value.ConnectTimeoutMs),
            EnableMultipleHttp2Connections = true,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

        // Workers of one deployment share their listener settings: with an h2c request plane (the default) decode_url is
        // the decode worker's advertised endpoints.requestPlane, as with an h2c-only main port (HttpProtocols = Http2),
        // so the push uses HTTP/2 prior knowledge. Without either, HTTP/2 where TLS negotiates it, else HTTP/1.1.
        _versionPolicy = worker.Value.RequestPlanePort >= 0 || worker.Value.HttpProtocols == HttpProtocols.Http2
            ? HttpVersionPolicy.RequestVersionExact
            : HttpVersionPolicy.RequestVersionOrLower;
    }

    public void Dispose() => _client.Dispose();

    internal async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var started = _time.GetTimestamp();
        PrefillRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, GenerateJsonContext.Default.PrefillRequest, aborted);
        }
        catch (JsonException ex)
        {
            await WriteAsync(context, KvTransferReceiver.Error(StatusCodes.Status400BadRequest, $"The body is not valid JSON: {ex.Message}"));
            return;
        }

        SchedulerRequest request;
        Uri target;
        try
        {
            (request, target) = Validate(body);
        }
        catch (InvalidGenerateRequestException ex)
        {
            await WriteAsync(context, KvTransferReceiver.Error(StatusCodes.Status400BadRequest, ex.Message));
            return;
        }

        var id = body!.TransferId!;
        var layout = _layout.Current;
        var prompt = request.PromptTokens;
        var blocks = (prompt.Length - 1) / layout.BlockSize;
        var hashes = KvBlockHashing.ComputeBlockHashes(prompt, layout.BlockSize, request.LoraAdapter).SequenceHashes[..blocks];
        var bytes = (long)blocks * layout.BlockBytes;
        if (!_budget.TryReserve(bytes))
        {
            await WriteAsync(context, KvTransferReceiver.Error(StatusCodes.Status503ServiceUnavailable, $"No buffer space for a {bytes}-byte KV transfer."));
            return;
        }

        using var sink = new KvExportSink(blocks, layout.BlockBytes, () => _budget.Unreserve(bytes));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        ChannelReader<SchedulerOutput> stream;
        try
        {
            stream = _host.Scheduler.Submit(request with { KvExport = sink }, cts.Token);
        }
        catch (SchedulerFullException ex)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(ex.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await WriteAsync(context, KvTransferReceiver.Error(StatusCodes.Status503ServiceUnavailable, ex.Message));
            return;
        }

        var content = new KvPushContent(layout.Header(id, prompt.Length, hashes), sink);
        var push = PushAsync(target, content, cts.Token);
        var prefill = DrainAsync(stream, cts.Token);
        int cached;
        long prefilled;
        try
        {
            // Either side failing ends both: a refused or dead push stops the prefill, a failed prefill cuts the push.
            if (await Task.WhenAny(prefill, push) == push && !push.IsCompletedSuccessfully)
            {
                await push;
            }

            (cached, prefilled) = await prefill;
            await push;
        }
        catch (Exception ex) when (!aborted.IsCancellationRequested)
        {
            await cts.CancelAsync();
            sink.Close();
            await Task.WhenAll(prefill, push).ContinueWith(static _ => { }, TaskScheduler.Default);
            var reason = push.IsFaulted ? push.Exception!.GetBaseException().Message : ex.Message;
            LogPushFailed(id, target, reason);
            await AbandonAsync(target);
            await WriteAsync(context, KvTransferReceiver.Error(StatusCodes.Status502BadGateway, $"KV transfer {id} to {target} failed: {reason}"));
            return;
        }
        catch (OperationCanceledException)
        {
            sink.Close();
            await Task.WhenAll(prefill, push).ContinueWith(static _ => { }, TaskScheduler.Default);
            await AbandonAsync(target);
            return;
        }

        var done = _time.GetTimestamp();
        var result = new PrefillResult(id, prompt.Length, cached, blocks, bytes,
            _time.GetElapsedTime(started, prefilled).TotalMilliseconds, _time.GetElapsedTime(prefilled, done).TotalMilliseconds);
        LogPushed(id, blocks, bytes, result.PrefillMs, result.TransferMs);
        await WriteAsync(context, TypedResults.Json(result, GenerateJsonContext.Default.PrefillResult));
    }

    private async Task<(int CachedTokens, long Done)> DrainAsync(ChannelReader<SchedulerOutput> stream, CancellationToken cancellationToken)
    {
        var cached = 0;
        await foreach (var output in stream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            cached = output.CachedTokens;
        }

        return (cached, _time.GetTimestamp());
    }

    /// <summary>
    /// Best effort: tells the decode worker the push will not come (or not complete), since a push cancelled
    /// before its connection was up never reached it and it would otherwise wait for its whole timeout.
    /// </summary>
    private async Task AbandonAsync(Uri target)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Delete, target) { Version = HttpVersion.Version20, VersionPolicy = _versionPolicy };
            using var response = await _client.SendAsync(message, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            // The decode worker is gone or unreachable; its own timeout covers it.
        }
    }

    private async Task PushAsync(Uri target, KvPushContent content, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = _versionPolicy,
        };
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(KvTransferWire.ContentType);
        using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new HttpRequestException($"the decode worker answered {(int)response.StatusCode}: {text}", null, response.StatusCode);
        }
    }

    private (SchedulerRequest Request, Uri Target) Validate(PrefillRequest? body)
    {
        if (body is null)
        {
            throw new InvalidGenerateRequestException("The body must be a JSON object.", null);
        }

        if (body.TransferId is not { Length: > 0 and <= 256 } id || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')))
        {
            throw new InvalidGenerateRequestException("transfer_id must be 1-256 characters of letters, digits and - _ . :", "transfer_id");
        }

        if (!Uri.TryCreate(body.DecodeUrl, UriKind.Absolute, out var decode) || decode.Scheme is not ("http" or "https"))
        {
            throw new InvalidGenerateRequestException("decode_url must be the decode worker's absolute http(s) URL.", "decode_url");
        }

        // The prompt is checked exactly as a generate request; one greedy token makes the scheduler compute all of it.
        var generate = new GenerateRequest(body.RequestId, body.TokenIds, 1, new GenerateSampling(0f, null, null, null, null, null, null, null, null), null, body.Priority);
        var request = GenerateValidation.ToSchedulerRequest(generate, _host);
        return (request, new Uri(decode, $"/v1/internal/kv/transfers/{Uri.EscapeDataString(id)}"));
    }

    private static Task WriteAsync(HttpContext context, IResult result) => result.ExecuteAsync(context);

    [LoggerMessage(Level = LogLevel.Warning, Message = "KV transfer {TransferId} to {Target} failed; the decode worker recomputes: {Reason}")]
    private partial void LogPushFailed(string transferId, Uri target, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "KV transfer {TransferId} pushed: {Blocks} blocks, {Bytes} bytes, prefill {PrefillMs:0.0} ms, transfer {TransferMs:0.0} ms")]
    private partial void LogPushed(string transferId, int blocks, long bytes, double prefillMs, double transferMs);
}
