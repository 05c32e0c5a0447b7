using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Dynamo.Router.Hosting;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Generation;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Workers;

/// <summary>
/// Speaks the worker's request plane: <c>POST /v1/internal/generate</c> with token ids, then reads the SSE stream
/// one event at a time as the worker flushes it. Cancelling the token aborts the HTTP request, which the worker
/// sees as a disconnect and answers by freeing the sequence.
/// </summary>
public sealed class WorkerClient(HttpClient http, IOptions<RouterOptions> options)
{
    public const string HttpClientName = "dynamo-worker";

    public const string GeneratePath = "/v1/internal/generate";

    private readonly string _mode = options.Value.WorkerHttpVersion;

    /// <summary>
    /// Where and how to reach a worker's request plane (<c>Router:WorkerHttpVersion</c>): <c>auto</c> speaks HTTP/2
    /// with prior knowledge to an advertised h2c <see cref="WorkerEndpoints.RequestPlane"/> and HTTP/1.1 to workers
    /// without one; <c>2</c> speaks HTTP/2 to the request plane, else to <see cref="WorkerEndpoints.Http"/> (workers
    /// run with <c>Worker:HttpProtocols=Http2</c>); <c>1.1</c> always uses <see cref="WorkerEndpoints.Http"/> over HTTP/1.1.
    /// </summary>
    public (Uri Endpoint, Version Version) RequestPlane(WorkerEndpoints endpoints) => ResolveRequestPlane(_mode, endpoints);

    /// <summary><see cref="RequestPlane"/> for a given <c>Router:WorkerHttpVersion</c> mode (shared with the prefill client).</summary>
    public static (Uri Endpoint, Version Version) ResolveRequestPlane(string mode, WorkerEndpoints endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var h2c = endpoints.RequestPlane is { Length: > 0 } plane && Uri.TryCreate(plane, UriKind.Absolute, out var planeUri) ? planeUri : null;
        return mode switch
        {
            "1.1" => (new Uri(endpoints.Http, UriKind.Absolute), HttpVersion.Version11),
            "2" => (h2c ?? new Uri(endpoints.Http, UriKind.Absolute), HttpVersion.Version20),
            _ => h2c is not null ? (h2c, HttpVersion.Version20) : (new Uri(endpoints.Http, UriKind.Absolute), HttpVersion.Version11),
        };
    }

    /// <summary>Sends the request to the worker's request plane (see <see cref="RequestPlane"/>) and waits for the response headers.</summary>
    /// <exception cref="WorkerRequestException">The worker answered with an error status.</exception>
    /// <exception cref="HttpRequestException">The worker could not be reached.</exception>
    public Task<WorkerStream> StartAsync(WorkerTarget worker, GenerateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var (endpoint, version) = RequestPlane(worker.Registration.Endpoints);
        return StartAsync(endpoint, version, request, cancellationToken);
    }

    /// <summary>Sends the request to <paramref name="worker"/> with exactly <paramref name="version"/> and waits for the response headers.</summary>
    /// <exception cref="WorkerRequestException">The worker answered with an error status.</exception>
    /// <exception cref="HttpRequestException">The worker could not be reached.</exception>
    public async Task<WorkerStream> StartAsync(Uri worker, Version version, GenerateRequest request, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, GenerateJsonContext.Default.GenerateRequest);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(worker, GeneratePath))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return new WorkerStream(response);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            ApiError? error = null;
            try
            {
                error = JsonSerializer.Deserialize(text, GenerateJsonContext.Default.ApiErrorResponse)?.Error;
            }
            catch (JsonException)
            {
                // Not the worker's envelope (a proxy's page, say): the status and raw text still say enough.
            }

            if (error is null)
            {
                // Not the worker's own refusal: something between the router and the worker is wrong, typically an
                // HTTP/1.1 request to a worker that speaks only HTTP/2 (Kestrel answers those with a bare 400).
                throw new WorkerRequestException(HttpStatusCode.BadGateway, null, new ApiError(
                    $"The worker at {worker} answered {(int)response.StatusCode} without an error body ('{text}'). "
                    + "If workers run with Worker:HttpProtocols=Http2, set Router:WorkerHttpVersion=2.", "server_error", null, "bad_gateway"));
            }

            throw new WorkerRequestException(response.StatusCode, response.Headers.RetryAfter?.Delta, error);
        }
    }
}

/// <summary>An open generation stream; dispose it to abort the worker request.</summary>
public sealed class WorkerStream(HttpResponseMessage response) : IDisposable
{
    /// <summary>Yields each <c>data:</c> event; an <c>event: error</c> from the worker throws <see cref="WorkerRequestException"/>.</summary>
    public async IAsyncEnumerable<GenerateEvent> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? eventName = null;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                eventName = null;
                continue;
            }

            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                eventName = line["event:".Length..].Trim();
                continue;
            }

            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line.AsSpan("data:".Length).TrimStart(' ');
            if (eventName == "error")
            {
                var error = JsonSerializer.Deserialize(data, GenerateJsonContext.Default.ApiErrorResponse)?.Error
                    ?? new ApiError("The worker's stream failed.", "server_error", null, null);
                throw new WorkerRequestException(HttpStatusCode.InternalServerError, null, error);
            }

            yield return JsonSerializer.Deserialize(data, GenerateJsonContext.Default.GenerateEvent)
                ?? throw new JsonException("The worker sent an empty event.");
        }
    }

    public void Dispose() => response.Dispose();
}

/// <summary>A worker refused or failed a request; <see cref="Error"/> is its OpenAI-shaped error.</summary>
public sealed class WorkerRequestException(HttpStatusCode status, TimeSpan? retryAfter, ApiError error) : Exception(error.Message)
{
    public HttpStatusCode Status { get; } = status;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    public ApiError Error { get; } = error;
}
