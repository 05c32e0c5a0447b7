using System.Diagnostics.CodeAnalysis;

namespace Dynamo.ServiceDefaults.Discovery;

/// <summary>
/// Resolves logical service addresses (<c>http://router/v1/chat</c>) to the endpoints the AppHost
/// or the platform configured (<c>services__router__http__0=http://127.0.0.1:5123</c>).
/// HttpClients get this automatically; use it directly for anything else that needs an address.
/// </summary>
public interface IServiceEndpointResolver
{
    /// <summary>Every configured replica of <paramref name="serviceName"/>'s <paramref name="endpointName"/> endpoint, in configuration order; empty when none.</summary>
    IReadOnlyList<Uri> GetEndpoints(string serviceName, string endpointName = "http");

    /// <summary>
    /// Rewrites a logical URI to one replica's address (round-robin), keeping path, query and fragment.
    /// Returns false when the host is not a configured service, e.g. <c>https://api.openai.com</c>.
    /// </summary>
    /// <remarks>
    /// The scheme picks the endpoint: <c>http</c>, <c>https</c>, or <c>https+http</c> (https when configured,
    /// else http). A host of the form <c>_name.service</c> picks the named endpoint <c>services:service:name</c>.
    /// </remarks>
    bool TryResolve(Uri logicalUri, [NotNullWhen(true)] out Uri? resolved);
}
