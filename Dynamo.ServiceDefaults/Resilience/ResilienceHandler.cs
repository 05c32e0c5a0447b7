using Polly;

namespace Dynamo.ServiceDefaults.Resilience;

/// <summary>Runs each request through the standard Polly pipeline of its target authority.</summary>
internal sealed class ResilienceHandler(HttpResiliencePipelines pipelines, string optionsName) : DelegatingHandler
{
    public string OptionsName => optionsName;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pipeline = pipelines.Get(optionsName, request.RequestUri);
        var context = Rent(request, cancellationToken);
        try
        {
            var outcome = await pipeline.ExecuteOutcomeAsync<HttpResponseMessage, (ResilienceHandler Handler, HttpRequestMessage Request)>(
                static async (ctx, state) =>
                {
                    try
                    {
                        var response = await state.Handler.SendInnerAsync(state.Request, ctx.CancellationToken).ConfigureAwait(ctx.ContinueOnCapturedContext);
                        return Outcome.FromResult(response);
                    }
                    catch (Exception e)
                    {
                        return Outcome.FromException<HttpResponseMessage>(e);
                    }
                },
                context,
                (this, request)).ConfigureAwait(false);
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pipeline = pipelines.Get(optionsName, request.RequestUri);
        var context = Rent(request, cancellationToken);
        try
        {
            return pipeline.Execute(static (ctx, state) => state.Handler.SendInner(state.Request, ctx.CancellationToken), context, (Handler: this, Request: request));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static ResilienceContext Rent(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(HttpRetryPolicy.SafeToRepeat, HttpRetryPolicy.IsSafeToRepeat(request));
        context.Properties.Set(HttpRetryPolicy.Replayable, HttpRetryPolicy.IsReplayable(request.Content));
        return context;
    }

    private Task<HttpResponseMessage> SendInnerAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    private HttpResponseMessage SendInner(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.Send(request, cancellationToken);
}
