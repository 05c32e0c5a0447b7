using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dynamo.Router.Hosting;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Generation;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Disaggregation;

/// <summary>
/// The router's side of the prefill protocol (Dynamo.Worker/README.md, "disaggregation"): <c>POST /v1/internal/prefill</c>
/// on a prefill worker, and <c>DELETE /v1/internal/kv/transfers/{id}</c> on the decode worker when the router knows
/// the push will not come. Uses the worker client's HTTP pipeline, and reaches each worker on the request plane the
/// generate path would use (<see cref="WorkerClient.ResolveRequestPlane"/>: h2c when the worker advertises one).
/// </summary>
public sealed class PrefillClient(IHttpClientFactory factory, IOptions<RouterOptions> options)
{
    public const string PrefillPath = "/v1/internal/prefill";

    public const string TransferPathPrefix = "/v1/internal/kv/transfers/";

    private readonly string _mode = options.Value.WorkerHttpVersion;

    /// <summary>The address a prefill worker pushes KV to: the decode worker's request plane.</summary>
    public Uri RequestPlaneOf(WorkerTarget worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return WorkerClient.ResolveRequestPlane(_mode, worker.Registration.Endpoints).Endpoint;
    }

    /// <summary>Returns once the decode worker acknowledged the last block.</summary>
    /// <exception cref="WorkerRequestException">The prefill worker refused or the push failed (its status and error).</exception>
    /// <exception cref="HttpRequestException">The prefill worker could not be reached or its connection broke.</exception>
    public async Task<PrefillResult> PrefillAsync(WorkerTarget worker, PrefillRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var (prefillWorker, version) = WorkerClient.ResolveRequestPlane(_mode, worker.Registration.Endpoints);
        var body = JsonSerializer.SerializeToUtf8Bytes(request, GenerateJsonContext.Default.PrefillRequest);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(prefillWorker, PrefillPath))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var http = factory.CreateClient(WorkerClient.HttpClientName);
        using var response = await http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new WorkerRequestException(response.StatusCode, response.Headers.RetryAfter?.Delta, ErrorOf(text, response.StatusCode));
        }

        try
        {
            return JsonSerializer.Deserialize(text, GenerateJsonContext.Default.PrefillResult)
                ?? throw new JsonException("empty body");
        }
        catch (JsonException ex)
        {
            throw new WorkerRequestException(HttpStatusCode.BadGateway, null,
                new ApiError($"The prefill worker at {prefillWorker} answered 200 with an unreadable body: {ex.Message}", "server_error", null, "bad_gateway"));
        }
    }

    /// <summary>Tells the decode worker to stop waiting for <paramref name="transferId"/> and compute the prompt itself.</summary>
    public async Task AbandonTransferAsync(WorkerTarget worker, string transferId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var (decodeWorker, version) = WorkerClient.ResolveRequestPlane(_mode, worker.Registration.Endpoints);
        using var message = new HttpRequestMessage(HttpMethod.Delete, new Uri(decodeWorker, TransferPathPrefix + Uri.EscapeDataString(transferId)))
        {
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var http = factory.CreateClient(WorkerClient.HttpClientName);
        using var response = await http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The decode worker at {decodeWorker} answered {(int)response.StatusCode} to abandoning transfer {transferId}.", null, response.StatusCode);
        }
    }

    private static ApiError ErrorOf(string text, HttpStatusCode status)
    {
        try
        {
            if (JsonSerializer.Deserialize(text, GenerateJsonContext.Default.ApiErrorResponse)?.Error is { } error)
            {
                return error;
            }
        }
        catch (JsonException)
        {
            // Not the worker's envelope; the status and raw text below say enough.
        }

        return new ApiError($"The prefill worker answered {(int)status}: '{text}'.", "server_error", null, "bad_gateway");
    }
}
