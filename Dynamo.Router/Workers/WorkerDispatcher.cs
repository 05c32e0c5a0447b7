using System.Net;
using Dynamo.Router.Api;
using Dynamo.Router.Hosting;
using Dynamo.Runtime.Generation;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Workers;

/// <summary>
/// Sends one token-level request to a worker of the pool: picks one with the selector, and when it cannot be
/// reached or says it is full, tries the next, so one bad or busy worker does not fail the request. What no
/// worker accepts becomes the client's error: 503 with Retry-After, 429, or the worker's own 400.
/// </summary>
internal sealed partial class WorkerDispatcher(
    WorkerPool pool, IWorkerSelector selector, WorkerClient client, IOptions<RouterOptions> options, ILogger<WorkerDispatcher> logger)
{
    public async Task<(WorkerTarget.Lease Lease, WorkerStream Stream)> StartAsync(GenerateRequest request, CancellationToken cancellationToken)
    {
        var retryAfter = TimeSpan.FromSeconds(options.Value.RetryAfterSeconds);
        List<WorkerTarget>? excluded = null;
        OpenAiException? lastRefusal = null;
        while (true)
        {
            var candidates = Candidates(excluded);
            if (candidates.Count == 0)
            {
                throw lastRefusal ?? new OpenAiException(StatusCodes.Status503ServiceUnavailable,
                    $"No worker is serving the model '{options.Value.Model}' right now.", "service_unavailable", null, "no_workers", retryAfter);
            }

            var target = selector.Select(candidates, request.TokenIds) ?? candidates[0];
            var lease = target.Acquire();
            try
            {
                var stream = await client.StartAsync(target.Endpoint, request, cancellationToken).ConfigureAwait(false);
                return (lease, stream);
            }
            catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
            {
                lease.Dispose();
                LogUnreachable(target.WorkerId, target.Endpoint, ex);
                (excluded ??= []).Add(target);
                lastRefusal = new OpenAiException(StatusCodes.Status503ServiceUnavailable,
                    "No worker of the model could be reached.", "service_unavailable", null, "no_workers", retryAfter);
            }
            catch (WorkerRequestException ex) when (ex.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
            {
                lease.Dispose();
                (excluded ??= []).Add(target);
                lastRefusal = OpenAiException.From((int)ex.Status, ex.Error, ex.RetryAfter ?? retryAfter);
            }
            catch (WorkerRequestException ex)
            {
                lease.Dispose();
                throw OpenAiException.From((int)ex.Status >= 500 ? StatusCodes.Status502BadGateway : (int)ex.Status, ex.Error);
            }
            catch
            {
                lease.Dispose();
                throw;
            }
        }
    }

    private List<WorkerTarget> Candidates(List<WorkerTarget>? excluded)
    {
        var all = pool.Workers;
        var list = new List<WorkerTarget>(all.Count);
        foreach (var worker in all)
        {
            if (excluded is null || !excluded.Contains(worker))
            {
                list.Add(worker);
            }
        }

        return list;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} at {Endpoint} could not be reached; trying another")]
    private partial void LogUnreachable(string workerId, Uri endpoint, Exception exception);
}
