using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Dynamo.Admin.Control;

/// <summary>
/// The AppHost's loopback control API (<c>services:apphost:http:0</c>): restart a replica, or drain one (SIGTERM, so
/// the worker unregisters and finishes in-flight work, and the resource keeps one replica fewer).
/// </summary>
public sealed class AppHostControlClient(HttpClient http)
{
    public const string ServiceName = "apphost";

    public bool IsConfigured => http.BaseAddress is not null;

    /// <summary>
    /// The AppHost names worker instances <c>{resource}-{replica}-{8 hex}</c>; returns (resource, replica) or null for
    /// a worker the AppHost did not start.
    /// </summary>
    public static (string Resource, int Replica)? ParseInstanceId(string workerId)
    {
        var parts = workerId.Split('-');
        if (parts.Length < 3 || parts[^1].Length != 8 || !parts[^1].All(char.IsAsciiHexDigit)
            || !int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var replica))
        {
            return null;
        }

        return (string.Join('-', parts[..^2]), replica);
    }

    public async Task RestartAsync(string resource, int replica, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(
            new HttpRequestMessage(HttpMethod.Post, $"api/resources/{Uri.EscapeDataString(resource)}/replicas/{replica}/restart"), cancellationToken);
    }

    /// <summary>
    /// Stops <paramref name="replica"/> (any index) gracefully and lowers the resource's desired replica count, so the
    /// AppHost does not start it again; the other replicas keep their indexes and keep serving.
    /// </summary>
    public async Task DrainAsync(string resource, int replica, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(
            new HttpRequestMessage(HttpMethod.Post, $"api/resources/{Uri.EscapeDataString(resource)}/replicas/{replica}/drain"), cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            if (!IsConfigured)
            {
                throw new ControlException("No AppHost control API: set services:apphost:http:0 (the AppHost sets it for every child).");
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                throw new ControlException($"The AppHost control API at {http.BaseAddress} is unreachable: {ex.Message}", ex);
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                string? detail = null;
                try
                {
                    detail = (await response.Content.ReadFromJsonAsync(ControlJsonContext.Default.ControlErrorBody, cancellationToken))?.Error;
                }
                catch (JsonException)
                {
                }

                throw new ControlException($"The AppHost refused ({(int)response.StatusCode}): {detail ?? response.ReasonPhrase}");
            }
        }
    }
}
