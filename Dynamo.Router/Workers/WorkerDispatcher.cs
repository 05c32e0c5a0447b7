using System.Net;
using Dynamo.Router.Api;
using Dynamo.Router.Disaggregation;
using Dynamo.Router.Hosting;
using Dynamo.Router.Routing;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Generation;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Workers;

/// <summary>
/// Sends one token-level request to a worker of the pool: asks the <see cref="IRequestRouter"/> (KV-aware by
/// default, <c>Router:Routing:Policy</c>) where it goes, and when that worker cannot be reached or says it is full,
/// asks again without it, so one bad or busy worker does not fail the request. What no worker accepts becomes the
/// client's error: 503 with Retry-After (also when the router sheds), 429, or the worker's own 400. A decode worker
/// of a disaggregated pool gets its prompt's KV from a prefill worker when the <see cref="PrefillPlanner"/> says so.
/// </summary>
internal sealed partial class WorkerDispatcher(
    WorkerPool pool,
    IRequestRouter router,
    WorkerClient client,
    PrefillPlanner prefill,
    IOptions<RouterOptions> options,
    ILogger<WorkerDispatcher> logger)
{
    /// <param name="avoid">A worker not to use unless it is the only one left (the one a migrating request left).</param>
    public async Task<WorkerDispatch> StartAsync(GenerateRequest request, RoutingOverrides? overrides, CancellationToken cancellationToken, string? avoid = null)
    {
        var retryAfter = TimeSpan.FromSeconds(options.Value.RetryAfterSeconds);
        List<string>? excluded = avoid is not null && pool.Workers.Any(w => !string.Equals(w.WorkerId, avoid, StringComparison.Ordinal)) ? [avoid] : null;
        OpenAiException? lastRefusal = null;
        RoutingRequest? routing = null;
        while (true)
        {
            var candidates = Candidates(excluded);
            if (candidates.Count == 0)
            {
                throw lastRefusal ?? new OpenAiException(StatusCodes.Status503ServiceUnavailable,
                    $"No worker is serving the model '{options.Value.Model}' right now.", "service_unavailable", null, "no_workers", retryAfter);
            }

            // Hashed as the workers hash their KV blocks (same block size, no LoRA salt), so overlaps meet their events.
            routing ??= RoutingRequest.FromTokens(request.RequestId ?? "", request.TokenIds ?? [], BlockSize(candidates), null, overrides);
            var route = await RouteAsync(routing, candidates, cancellationToken).ConfigureAwait(false);
            var target = candidates.First(c => string.Equals(c.WorkerId, route.Decision!.WorkerId, StringComparison.Ordinal));
            var sequence = route.Sequence!;
            PrefillPlan? plan = null;
            try
            {
                var decision = route.Decision!;
                if (target.Registration.Role is WorkerRole.Decode)
                {
                    plan = await prefill.PlanAsync(request, routing, decision, sequence, target, cancellationToken).ConfigureAwait(false);
                    decision = decision with { Prefill = plan.Route };
                }

                var stream = await client.StartAsync(target, plan?.Request ?? request, cancellationToken).ConfigureAwait(false);
                return new WorkerDispatch(target, decision, sequence, stream, plan?.Remote);
            }
            catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
            {
                plan?.Remote?.Dispose();
                sequence.Dispose();
                LogUnreachable(target.WorkerId, target.Endpoint, ex);
                (excluded ??= []).Add(target.WorkerId);
                lastRefusal = new OpenAiException(StatusCodes.Status503ServiceUnavailable,
                    "No worker of the model could be reached.", "service_unavailable", null, "no_workers", retryAfter);
            }
            catch (WorkerRequestException ex) when (ex.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
            {
                plan?.Remote?.Dispose();
                sequence.Dispose();
                (excluded ??= []).Add(target.WorkerId);
                lastRefusal = OpenAiException.From((int)ex.Status, ex.Error, ex.RetryAfter ?? retryAfter);
            }
            catch (WorkerRequestException ex)
            {
                plan?.Remote?.Dispose();
                sequence.Dispose();
                throw OpenAiException.From((int)ex.Status >= 500 ? StatusCodes.Status502BadGateway : (int)ex.Status, ex.Error);
            }
            catch
            {
                plan?.Remote?.Dispose();
                sequence.Dispose();
                throw;
            }
        }
    }

    private async Task<RouteResult> RouteAsync(RoutingRequest routing, List<WorkerTarget> candidates, CancellationToken cancellationToken)
    {
        var registrations = new WorkerRegistration[candidates.Count];
        for (var i = 0; i < registrations.Length; i++)
        {
            registrations[i] = candidates[i].Registration;
        }

        RouteResult route;
        try
        {
            route = await router.RouteAsync(routing, registrations, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            // The API checked nvext already; this is the router's own guard speaking, still about the request's nvext.
            throw OpenAiException.Invalid(ex.Message, NvExt.Field);
        }

        if (route.IsShed)
        {
            throw new OpenAiException(StatusCodes.Status503ServiceUnavailable,
                $"The model '{options.Value.Model}' is overloaded ({route.ShedReason}); retry later.", "service_unavailable", null, "overloaded", route.RetryAfter);
        }

        return route;
    }

    /// <summary>Workers agree on the block size in a healthy deployment; the router's configured one covers a worker advertising none.</summary>
    private int BlockSize(List<WorkerTarget> candidates) =>
        candidates[0].Registration.BlockSize is > 0 and var size ? size : options.Value.KvBlockSize;

    private List<WorkerTarget> Candidates(List<string>? excluded)
    {
        var all = pool.Workers;
        var list = new List<WorkerTarget>(all.Count);
        foreach (var worker in all)
        {
            if (excluded is null || !excluded.Contains(worker.WorkerId, StringComparer.Ordinal))
            {
                list.Add(worker);
            }
        }

        return list;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} at {Endpoint} could not be reached; asking the router for another")]
    private partial void LogUnreachable(string workerId, Uri endpoint, Exception exception);
}
