using System.Buffers;
using System.Net;
using Dynamo.Gateway.Api;
using Dynamo.Gateway.Hosting;
using Dynamo.Gateway.Routing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Dynamo.Gateway.Proxy;

/// <summary>
/// Forwards one request to a router replica and streams the answer back as it arrives: response headers are read
/// first, then every chunk is written and flushed at once (server-sent events reach the client token by token).
/// A replica that refuses the connection is skipped for the next; once a byte has been sent the request is not
/// repeated. The client's disconnect cancels the upstream request. Upstream status codes and bodies pass unchanged.
/// </summary>
internal sealed partial class ProxyForwarder : IDisposable
{
    private const int CopyBufferSize = 16 * 1024;

    private readonly HttpMessageInvoker _client;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ProxyForwarder> _logger;

    public ProxyForwarder(IOptions<GatewayOptions> options, TimeProvider time, ILogger<ProxyForwarder> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        // Not from IHttpClientFactory: the default client pipeline retries and resolves service names, and a proxy must
        // do neither behind the caller's back. SocketsHttpHandler still propagates W3C trace context itself.
        _client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = _options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            EnableMultipleHttp2Connections = true,
        }, disposeHandler: true);
    }

    /// <summary>Forwards the current request with <paramref name="body"/>; returns the tokens the response reported (or streamed).</summary>
    public async Task<long> ForwardAsync(HttpContext context, RouterPool pool, RequestBody? body, string model)
    {
        var aborted = context.RequestAborted;
        List<RouterReplica>? tried = null;
        while (pool.Pick(_time.GetTimestamp(), tried) is { } replica)
        {
            using var request = CreateRequest(context, replica, body);
            HttpResponseMessage response;
            replica.Enter();
            try
            {
                response = await _client.SendAsync(request, aborted);
            }
            catch (HttpRequestException ex) when (!aborted.IsCancellationRequested && NothingWasSent(ex))
            {
                replica.Exit();
                replica.MarkFailed(_time.GetTimestamp() + (long)(_options.FailedReplicaCooldown.TotalSeconds * _time.TimestampFrequency));
                LogReplicaUnreachable(_logger, replica.BaseAddress, model, ex.Message);
                (tried ??= []).Add(replica);
                continue;
            }
            catch (OperationCanceledException ex) when (!aborted.IsCancellationRequested && ex.InnerException is TimeoutException)
            {
                replica.Exit();
                replica.MarkFailed(_time.GetTimestamp() + (long)(_options.FailedReplicaCooldown.TotalSeconds * _time.TimestampFrequency));
                LogReplicaUnreachable(_logger, replica.BaseAddress, model, "connect timeout");
                (tried ??= []).Add(replica);
                continue;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                replica.Exit();
                if (!aborted.IsCancellationRequested)
                {
                    LogUpstreamFailed(_logger, replica.BaseAddress, model, ex.Message);
                    await OpenAiErrors.WriteAsync(context, StatusCodes.Status502BadGateway, $"The router of model '{model}' failed: {ex.Message}",
                        "server_error", "upstream_error", reason: RejectionReasons.UpstreamUnavailable);
                }

                return 0;
            }

            try
            {
                using (response)
                {
                    context.Features.GetRequiredFeature<GatewayRequestFeature>().Timings?.Mark("upstream");
                    return await CopyResponseAsync(context, response);
                }
            }
            finally
            {
                replica.Exit();
            }
        }

        context.Response.Headers.RetryAfter = "1";
        await OpenAiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
            $"No router of model '{model}' could be reached ({pool.Replicas.Count} tried).", "service_unavailable", "upstream_unavailable",
            reason: RejectionReasons.UpstreamUnavailable);
        return 0;
    }

    private static HttpRequestMessage CreateRequest(HttpContext context, RouterReplica replica, RequestBody? body)
    {
        var incoming = context.Request;
        var method = HttpMethods.IsPost(incoming.Method) ? HttpMethod.Post : new HttpMethod(incoming.Method);
        var request = new HttpRequestMessage(method, Target(replica.BaseAddress, incoming))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (body is not null)
        {
            var segment = body.Segment;
            request.Content = new ByteArrayContent(segment.Array!, segment.Offset, segment.Count);
        }

        ProxyHeaders.CopyToUpstream(incoming, request);
        return request;
    }

    private static Uri Target(Uri baseAddress, HttpRequest incoming) =>
        new(baseAddress.GetLeftPart(UriPartial.Authority) + baseAddress.AbsolutePath.TrimEnd('/') + incoming.Path.ToUriComponent() + incoming.QueryString.ToUriComponent());

    private async Task<long> CopyResponseAsync(HttpContext context, HttpResponseMessage response)
    {
        var aborted = context.RequestAborted;
        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        ProxyHeaders.CopyToClient(response, outgoing);
        var feature = context.Features.GetRequiredFeature<GatewayRequestFeature>();
        if (feature.Timings is { } timings)
        {
            outgoing.Headers.Append(StageTimings.HeaderName, timings.Header());
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var meter = response.IsSuccessStatusCode ? new UsageMeter(string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase)) : null;

        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            await using var upstream = await response.Content.ReadAsStreamAsync(aborted);
            var pending = upstream.ReadAsync(buffer, aborted);
            if (!pending.IsCompleted)
            {
                // Nothing to send yet (a model still on its first token): the client gets the headers now. Otherwise they go
                // out with the first chunk, in one write instead of two.
                await outgoing.StartAsync(aborted);
            }

            var first = true;
            int read;
            while ((read = await pending) > 0)
            {
                if (first)
                {
                    GatewayMetrics.FirstByte(_time.GetElapsedTime(feature.StartTimestamp).TotalSeconds);
                    first = false;
                }

                meter?.Observe(buffer.AsSpan(0, read));
                await outgoing.Body.WriteAsync(buffer.AsMemory(0, read), aborted);
                await outgoing.Body.FlushAsync(aborted);
                pending = upstream.ReadAsync(buffer, aborted);
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && !aborted.IsCancellationRequested)
        {
            // Headers are out: the only honest signal left is a broken stream, which clients see as an incomplete response.
            LogStreamBroken(_logger, ex.Message);
            context.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return meter?.Complete() ?? 0;
    }

    /// <summary>The connection failed before the request went out, so another replica may be asked.</summary>
    private static bool NothingWasSent(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError;

    public void Dispose() => _client.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Router {Address} of model {Model} unreachable, trying the next: {Reason}")]
    private static partial void LogReplicaUnreachable(ILogger logger, Uri address, string model, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Router {Address} of model {Model} failed: {Reason}")]
    private static partial void LogUpstreamFailed(ILogger logger, Uri address, string model, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response stream from the router broke off: {Reason}")]
    private static partial void LogStreamBroken(ILogger logger, string reason);
}
