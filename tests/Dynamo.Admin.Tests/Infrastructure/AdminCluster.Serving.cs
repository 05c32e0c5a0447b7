using System.Net.Http.Headers;
using System.Text.Json;
using Dynamo.TestSupport;

namespace Dynamo.Admin.Tests.Infrastructure;

public sealed partial class AdminCluster
{
    /// <summary>The gateway's development key (provisioned at its start), for traffic the tests send through it.</summary>
    public const string GatewayApiKey = "test-gateway-dev-key-0123456789abcdef";

    public const string Model = "dynamo-default";

    /// <summary>The instance id of the worker <see cref="StartServingAsync"/> starts (its registry and metrics id).</summary>
    public string ServingWorkerId { get; } = "ui-worker-" + Guid.NewGuid().ToString("N")[..6];

    /// <summary>
    /// Starts a real worker (mocker engine, so no compute is needed) and a real router on this cluster's planes, and
    /// waits until the gateway lists the router's model. Not part of the fixture: only the tests that send traffic
    /// pay for them; the caller disposes the returned children to stop both.
    /// </summary>
    public async Task<ChildServices> StartServingAsync(CancellationToken cancellationToken)
    {
        var children = new ChildServices(LogDirectory);
        try
        {
            var workerPort = ChildServices.FreePort();
            children.Start(ServiceDll("Dynamo.Worker"), Environment(workerPort, new()
            {
                ["Worker__Engine"] = "mocker",
                ["Worker__KvCapacityBlocks"] = "1024",
                ["Worker__AdvertisedUrl"] = $"http://127.0.0.1:{workerPort}",
                ["DYNAMO_INSTANCE_ID"] = ServingWorkerId,
            }), "worker.log");
            var routerPort = ChildServices.FreePort();
            children.Start(ServiceDll("Dynamo.Router"), Environment(routerPort, new()
            {
                ["Router__CardRefreshSeconds"] = "1",
            }), "router.log");

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await children.WaitHealthyAsync(http, new Uri($"http://127.0.0.1:{workerPort}/health"), cancellationToken);
            await children.WaitHealthyAsync(http, new Uri($"http://127.0.0.1:{routerPort}/health"), cancellationToken);
            await WaitUntilGatewayListsModelAsync(http, cancellationToken);
            return children;
        }
        catch
        {
            await children.DisposeAsync();
            throw;
        }
    }

    public HttpClient CreateGatewayClient()
    {
        var client = new HttpClient { BaseAddress = GatewayUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayApiKey);
        return client;
    }

    private async Task WaitUntilGatewayListsModelAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var last = "";
        while (!cancellationToken.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(GatewayUrl, "v1/models"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayApiKey);
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                last = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode
                    && JsonDocument.Parse(last).RootElement.GetProperty("data").EnumerateArray().Any(m => m.GetProperty("id").GetString() == Model))
                {
                    return;
                }

                await Task.Delay(250, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                last = ex.Message;
            }
        }

        throw new TimeoutException($"The gateway never listed {Model}; its last answer: {last}");
    }
}
