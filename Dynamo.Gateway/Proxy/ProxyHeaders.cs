using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Dynamo.Gateway.Proxy;

/// <summary>Which headers cross the gateway, each way.</summary>
internal static class ProxyHeaders
{
    public const string RequestId = "X-Request-Id";

    /// <summary>
    /// Hop-by-hop headers (RFC 9110 7.6.1) and ones the gateway owns: the client's API key stays here, and the
    /// trace context is re-issued by HttpClient's own propagation as a child of the gateway's span.
    /// </summary>
    private static readonly HashSet<string> s_notForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.TransferEncoding, HeaderNames.TE, HeaderNames.Trailer,
        HeaderNames.Upgrade, HeaderNames.ProxyAuthenticate, HeaderNames.ProxyAuthorization, "Proxy-Connection",
        HeaderNames.Host, HeaderNames.Authorization, HeaderNames.ContentLength, HeaderNames.Expect,
        HeaderNames.TraceParent, HeaderNames.TraceState, HeaderNames.Baggage, "Request-Id", "Correlation-Context",
    };

    private static readonly HashSet<string> s_notReturned = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.TransferEncoding, HeaderNames.Trailer,
        HeaderNames.Upgrade, HeaderNames.ProxyAuthenticate, "Proxy-Connection", RequestId,
    };

    public static void CopyToUpstream(HttpRequest from, HttpRequestMessage to)
    {
        var listedInConnection = from.Headers.Connection;
        foreach (var (name, value) in from.Headers)
        {
            if (s_notForwarded.Contains(name) || Listed(listedInConnection, name))
            {
                continue;
            }

            string[] values = value!;
            if (!to.Headers.TryAddWithoutValidation(name, values))
            {
                to.Content?.Headers.TryAddWithoutValidation(name, values);
            }
        }
    }

    public static void CopyToClient(HttpResponseMessage from, HttpResponse to)
    {
        Copy(from.Headers, to);
        Copy(from.Content.Headers, to);
    }

    private static void Copy(HttpHeaders headers, HttpResponse to)
    {
        foreach (var (name, values) in headers.NonValidated)
        {
            if (s_notReturned.Contains(name))
            {
                continue;
            }

            to.Headers[name] = values.Count == 1 ? new StringValues(values.ToString()) : new StringValues([.. values]);
        }
    }

    private static bool Listed(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(token, name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
