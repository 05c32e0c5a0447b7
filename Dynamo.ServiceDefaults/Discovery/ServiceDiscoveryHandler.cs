namespace Dynamo.ServiceDefaults.Discovery;

/// <summary>
/// Rewrites a logical request URI to a replica's address for the duration of one send. Placed inside
/// the resilience handler, so every retry resolves again and can land on another replica; the original
/// URI is restored afterwards so retries and logs see the logical name.
/// </summary>
public sealed class ServiceDiscoveryHandler(IServiceEndpointResolver resolver) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var original = request.RequestUri;
        if (original is null || !resolver.TryResolve(original, out var resolved))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        request.RequestUri = resolved;
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            request.RequestUri = original;
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var original = request.RequestUri;
        if (original is null || !resolver.TryResolve(original, out var resolved))
        {
            return base.Send(request, cancellationToken);
        }

        request.RequestUri = resolved;
        try
        {
            return base.Send(request, cancellationToken);
        }
        finally
        {
            request.RequestUri = original;
        }
    }
}
