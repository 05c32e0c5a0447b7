using System.Collections.Concurrent;
using Dynamo.Planner.Connectors;
using Dynamo.Planner.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Tests.Connectors;

public sealed class KubernetesConnectorTests : IDisposable
{
    private readonly string _serviceAccount = Directory.CreateTempSubdirectory("planner-sa-").FullName;

    public void Dispose() => Directory.Delete(_serviceAccount, recursive: true);

    [Fact]
    public async Task ScaleAsync_ServiceAccountCredentials_MergePatchesDeploymentScale()
    {
        File.WriteAllText(Path.Combine(_serviceAccount, "token"), "sa-token-1\n");
        File.WriteAllText(Path.Combine(_serviceAccount, "namespace"), "serving\n");
        var requests = new ConcurrentQueue<(string Method, string Path, string? Auth, string? ContentType, string Body)>();
        var replicas = 1;
        await using var api = await FakeHttpApi.StartAsync(app =>
        {
            app.MapMethods("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", ["GET", "PATCH"], async (HttpRequest request) =>
            {
                var body = await new StreamReader(request.Body).ReadToEndAsync();
                requests.Enqueue((request.Method, request.Path.Value!, request.Headers.Authorization, request.ContentType, body));
                if (request.Headers.Authorization != "Bearer sa-token-1" && request.Headers.Authorization != "Bearer sa-token-2")
                {
                    return Results.Unauthorized();
                }

                if (HttpMethods.IsPatch(request.Method))
                {
                    if (request.ContentType != "application/merge-patch+json; charset=utf-8")
                    {
                        return Results.StatusCode(415);
                    }

                    using var patch = System.Text.Json.JsonDocument.Parse(body);
                    replicas = patch.RootElement.GetProperty("spec").GetProperty("replicas").GetInt32();
                }

                return Results.Json(new { kind = "Scale", apiVersion = "autoscaling/v1", spec = new { replicas }, status = new { replicas } });
            });
        });
        var connector = Create(new KubernetesConnectorOptions { ApiServer = api.Address.ToString(), ServiceAccountPath = _serviceAccount });

        var outcome = await connector.ScaleAsync("prefill", 4, "d1", CancellationToken.None);
        File.WriteAllText(Path.Combine(_serviceAccount, "token"), "sa-token-2");
        var current = await connector.GetReplicasAsync("prefill", CancellationToken.None);

        var patchRequest = requests.First(r => r.Method == "PATCH");
        Assert.Equal("/apis/apps/v1/namespaces/serving/deployments/prefill-worker/scale", patchRequest.Path);
        Assert.Equal("Bearer sa-token-1", patchRequest.Auth);
        Assert.Equal("{\"spec\":{\"replicas\":4}}", patchRequest.Body);
        Assert.Equal("Bearer sa-token-2", requests.Last().Auth);
        Assert.Equal(4, current);
        Assert.Contains("serving/prefill-worker spec.replicas = 4", outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScaleAsync_Forbidden_ThrowsWithStatusAndBody()
    {
        await using var api = await FakeHttpApi.StartAsync(app => app.MapMethods("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", ["PATCH"],
            () => Results.Json(new { kind = "Status", message = "deployments.apps \"worker\" is forbidden" }, statusCode: 403)));
        var connector = Create(new KubernetesConnectorOptions { ApiServer = api.Address.ToString(), Namespace = "ns1", Token = "t", ServiceAccountPath = _serviceAccount });

        var error = await Assert.ThrowsAsync<ScalingException>(() => connector.ScaleAsync("aggregated", 2, "d1", CancellationToken.None));

        Assert.Contains("403", error.Message, StringComparison.Ordinal);
        Assert.Contains("forbidden", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Target_NoServerAnywhere_ThrowsSayingWhatIsMissing()
    {
        var previous = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_HOST", null);
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => new KubernetesTarget(new KubernetesConnectorOptions { ServiceAccountPath = _serviceAccount }));

            Assert.Contains("ApiServer", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_HOST", previous);
        }
    }

    private static KubernetesConnector Create(KubernetesConnectorOptions options)
    {
        var target = new KubernetesTarget(options);
        return new KubernetesConnector(new HttpClient(target.CreateHandler()), target, Options.Create(new PlannerOptions { Kubernetes = options }));
    }
}
