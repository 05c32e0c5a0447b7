using System.Net.Http.Json;
using System.Text.Json;

namespace Dynamo.Router.Tests.Api;

[Collection(RouterClusterCollection.Name)]
public sealed class WorkerProtocolTests(RouterCluster cluster)
{
    [Fact]
    public async Task CompleteChat_WorkerOnHttp2Only_RouterSpeaksH2cWhenConfigured()
    {
        var worker = await cluster.StartWorkerAsync(new() { ["Worker:Model"] = "h2-model", ["Worker:HttpProtocols"] = "Http2" });
        var (router, address) = await cluster.StartRouterAsync(new() { ["Router:Model"] = "h2-model", ["Router:WorkerHttpVersion"] = "2" });
        try
        {
            await RouterCluster.WaitForWorkersAsync(router, 1);
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };

            using var response = await http.PostAsJsonAsync("/v1/chat/completions",
                new { model = "h2-model", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 3, temperature = 0 });
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            Assert.True(response.IsSuccessStatusCode, json.RootElement.ToString());
            Assert.InRange(json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 3);
        }
        finally
        {
            await RouterCluster.StopAsync(router);
            await RouterCluster.StopAsync(worker);
        }
    }

    [Fact]
    public async Task CompleteChat_WorkerOnHttp2OnlyButRouterForcedToHttp11_Returns502PointingAtWorkerHttpVersion()
    {
        var worker = await cluster.StartWorkerAsync(new() { ["Worker:Model"] = "h2-only", ["Worker:HttpProtocols"] = "Http2" });
        var (router, address) = await cluster.StartRouterAsync(new() { ["Router:Model"] = "h2-only", ["Router:WorkerHttpVersion"] = "1.1" });
        try
        {
            await RouterCluster.WaitForWorkersAsync(router, 1);
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };

            using var response = await http.PostAsJsonAsync("/v1/chat/completions",
                new { model = "h2-only", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 3 });
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(System.Net.HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Contains("Router:WorkerHttpVersion=2", body, StringComparison.Ordinal);
        }
        finally
        {
            await RouterCluster.StopAsync(router);
            await RouterCluster.StopAsync(worker);
        }
    }
}
