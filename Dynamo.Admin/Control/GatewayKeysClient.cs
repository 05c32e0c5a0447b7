using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.Admin.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Admin.Control;

/// <summary>
/// The gateway's admin key API (<c>/admin/keys</c>), reached through service discovery (<c>services:gateway:http:0</c>)
/// with <see cref="AdminOptions.GatewayAdminKey"/> as bearer.
/// </summary>
public sealed class GatewayKeysClient(HttpClient http, IOptions<AdminOptions> options)
{
    public const string ServiceName = "gateway";

    public bool IsConfigured => http.BaseAddress is not null && !string.IsNullOrEmpty(options.Value.GatewayAdminKey);

    public string NotConfiguredReason => http.BaseAddress is null
        ? "No gateway address: set services:gateway:http:0 (the AppHost does this through WithReference(gateway))."
        : "No gateway admin key: set Admin:GatewayAdminKey to the gateway's Gateway:AdminKey.";

    public async Task<IReadOnlyList<GatewayKey>> ListAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "admin/keys"), cancellationToken);
        var list = await response.Content.ReadFromJsonAsync(GatewayJsonContext.Default.GatewayKeyList, cancellationToken);
        return list?.Data ?? [];
    }

    public async Task<GatewayCreatedKey> CreateAsync(GatewayCreateKey request, CancellationToken cancellationToken = default)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, "admin/keys")
        {
            Content = JsonContent.Create(request, GatewayJsonContext.Default.GatewayCreateKey),
        };
        using var response = await SendAsync(message, cancellationToken);
        return await response.Content.ReadFromJsonAsync(GatewayJsonContext.Default.GatewayCreatedKey, cancellationToken)
            ?? throw new ControlException("The gateway answered an empty body to a key creation.");
    }

    public async Task RevokeAsync(string id, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"admin/keys/{Uri.EscapeDataString(id)}"), cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            if (!IsConfigured)
            {
                throw new ControlException(NotConfiguredReason);
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Value.GatewayAdminKey);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                throw new ControlException($"The gateway at {http.BaseAddress} is unreachable: {ex.Message}", ex);
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
                    detail = (await response.Content.ReadFromJsonAsync(GatewayJsonContext.Default.GatewayError, cancellationToken))?.Error?.Message;
                }
                catch (JsonException)
                {
                }

                throw new ControlException($"The gateway refused ({(int)response.StatusCode}): {detail ?? response.ReasonPhrase}");
            }
        }
    }
}
