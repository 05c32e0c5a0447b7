using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Tests.Infrastructure;
using OpenAI;

namespace Dynamo.AppHost.Tests.EndToEnd;

/// <summary>
/// The real topology (Program.cs) started once for the end-to-end tests, ready when the gateway lists the default
/// model for the development key the AppHost wrote to endpoints.json (the key is provisioned and the router's model
/// card is published only after the services report healthy).
/// </summary>
public sealed class GatewayClusterFixture : IAsyncLifetime
{
    public const string Model = "dynamo-default";

    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(180);

    internal AppHostProcess AppHost { get; private set; } = null!;

    public EndpointsDocument Endpoints { get; private set; } = null!;

    public string GatewayUrl => Endpoints.Resources["gateway"].Urls[0];

    public string ApiKey => Endpoints.ApiKey!;

    /// <summary>An OpenAI client for the gateway: no retries, so refusals reach the test as they were answered.</summary>
    public OpenAIClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        AppHost = AppHostProcess.Start("--no-build", "--grace-period", "5");
        Endpoints = await AppHost.WaitUntilAllRunningAsync();
        if (string.IsNullOrEmpty(Endpoints.ApiKey))
        {
            throw new InvalidOperationException("endpoints.json has no apiKey.");
        }

        Client = CreateClient(ApiKey);
        await WaitUntilModelListedAsync();
    }

    public async Task DisposeAsync() => await AppHost.DisposeAsync();

    public OpenAIClient CreateClient(string apiKey) => new(new ApiKeyCredential(apiKey), new OpenAIClientOptions
    {
        Endpoint = new Uri($"{GatewayUrl}/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromMinutes(2),
    });

    /// <summary>A plain HTTP request to the gateway with the development key (for bodies no typed client can send).</summary>
    public async Task<(int Status, JsonElement Body)> PostRawAsync(string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{GatewayUrl}{path}")
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        using var response = await AppHost.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return ((int)response.StatusCode, document.RootElement.Clone());
    }

    /// <summary>The sum of the worker's Prometheus samples named <paramref name="metric"/> (any labels).</summary>
    public Task<double> WorkerMetricAsync(string metric, bool absentIsZero = false) => MetricAsync("worker", metric, absentIsZero);

    /// <summary>
    /// The sum of a resource's Prometheus samples named <paramref name="metric"/> (any labels). Counters and histograms
    /// appear only once recorded, so <paramref name="absentIsZero"/> reads a missing one as 0.
    /// </summary>
    public async Task<double> MetricAsync(string resource, string metric, bool absentIsZero = false)
    {
        var text = await AppHost.Http.GetStringAsync($"{Endpoints.Resources[resource].Urls[0]}/metrics");
        var sum = 0.0;
        var found = false;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(metric, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line.AsSpan(metric.Length);
            if (rest.Length == 0 || (rest[0] != ' ' && rest[0] != '{'))
            {
                continue;
            }

            var value = line[(line.LastIndexOf(' ') + 1)..];
            sum += double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
            found = true;
        }

        return found || absentIsZero ? sum : throw new InvalidOperationException($"The /metrics of {resource} has no {metric}:\n{text}");
    }

    private async Task WaitUntilModelListedAsync()
    {
        var models = Client.GetOpenAIModelClient();
        var deadline = DateTime.UtcNow + s_readyTimeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var listed = await models.GetModelsAsync();
                if (listed.Value.Any(m => m.Id == Model))
                {
                    return;
                }
            }
            catch (ClientResultException ex)
            {
                last = ex;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The gateway did not list {Model} within {s_readyTimeout.TotalSeconds} s: {last?.Message}\n{AppHost.StandardOutput[^Math.Min(6000, AppHost.StandardOutput.Length)..]}");
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayClusterCollection : ICollectionFixture<GatewayClusterFixture>
{
    public const string Name = "OpenAI end to end";
}
