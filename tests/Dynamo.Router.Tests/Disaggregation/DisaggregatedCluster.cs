using Dynamo.Router.Hosting;
using Dynamo.Router.Tests.Api;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Dynamo.TestSupport.Hosting;
using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Router.Tests.Disaggregation;

/// <summary>
/// A disaggregated serving slice on 127.0.0.1: real nats-server and redis-server, prefill and decode workers (native
/// engine, the default model, composed as the worker's Program.cs does, transfer endpoints included) and a router.
/// Each test gets its own, because the failure tests stop workers.
/// </summary>
internal sealed class DisaggregatedCluster : IAsyncDisposable
{
    public const string Model = "dynamo-default";

    private readonly ClusterBrokers _brokers = new("dg");
    private readonly List<WebApplication> _apps = [];

    /// <summary>
    /// Worker settings under which a decode worker waits ten minutes for a push (its own default and the expiry of a
    /// transfer nobody pushes, twice that), far past a test client's two: only an abandon ends the wait early.
    /// </summary>
    public static Dictionary<string, string?> LongTransferWait => new() { ["Worker:Disaggregation:TransferTimeoutMs"] = "600000" };

    public List<WebApplication> Prefill { get; } = [];

    public List<WebApplication> Decode { get; } = [];

    public WebApplication Router { get; private set; } = null!;

    public Uri RouterAddress { get; private set; } = null!;

    public static string ModelPath => RouterCluster.ModelPath;

    /// <param name="router">Router settings on top of the defaults (which disaggregate every prompt with a full block).</param>
    /// <param name="worker">Settings for every worker.</param>
    public static async Task<DisaggregatedCluster> StartAsync(
        int prefill, int decode, Dictionary<string, string?>? router = null, Dictionary<string, string?>? worker = null)
    {
        var cluster = new DisaggregatedCluster();
        try
        {
            await cluster._brokers.StartAsync();
            for (var i = 0; i < prefill; i++)
            {
                cluster.Prefill.Add(await cluster.StartWorkerAsync(WorkerRole.Prefill, worker ?? []));
            }

            for (var i = 0; i < decode; i++)
            {
                cluster.Decode.Add(await cluster.StartWorkerAsync(WorkerRole.Decode, worker ?? []));
            }

            (cluster.Router, cluster.RouterAddress) = await cluster.StartRouterAsync(router ?? []);
            await Eventually(() => cluster.Pool.Workers.Count == decode && cluster.Pool.PrefillWorkers.Count == prefill, "every worker in the router's pool");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public WorkerPool Pool => Router.Services.GetRequiredService<WorkerPool>();

    public HttpClient CreateClient() => new() { BaseAddress = RouterAddress, Timeout = TimeSpan.FromSeconds(120) };

    public static string IdOf(WebApplication worker) => worker.Services.GetRequiredService<WorkerRegistration>().WorkerId;

    public static WorkerEngineHost Engine(WebApplication worker) => worker.Services.GetRequiredService<WorkerEngineHost>();

    public static DisaggregatedDecode DecodeSide(WebApplication worker) => worker.Services.GetRequiredService<DisaggregatedDecode>();

    public WebApplication WorkerNamed(string workerId) => Prefill.Concat(Decode).Single(w => IdOf(w) == workerId);

    /// <summary>Registers a stand-in worker (e.g. a prefill worker that fails) in the cluster's registry.</summary>
    public Task RegisterAsync(WorkerRegistration registration) =>
        Router.Services.GetRequiredService<IWorkerRegistry>().RegisterAsync(registration, TimeSpan.FromSeconds(60));

    /// <summary>Stops a worker abruptly: Kestrel aborts its open connections mid-request, as a killed process's would be.</summary>
    public static async Task KillAsync(WebApplication worker)
    {
        try
        {
            await worker.StopAsync(new CancellationToken(canceled: true));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OperationCanceledException))
        {
            // The host reports its cancelled graceful steps (drain) as cancellations; the connections are gone.
        }
    }

    public static Task Eventually(Func<bool> condition, string what, int seconds = 30) =>
        TestSupport.Eventually.TrueAsync(condition, what, seconds);

    public async ValueTask DisposeAsync()
    {
        foreach (var app in Enumerable.Reverse(_apps))
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await app.StopAsync(grace.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or AggregateException or ObjectDisposedException)
            {
                // Already stopped (a killed worker) or slow to drain: disposal below releases it either way.
            }

            await app.DisposeAsync();
        }

        await _brokers.DisposeAsync();
    }

    private async Task<WebApplication> StartWorkerAsync(WorkerRole role, Dictionary<string, string?> settings)
    {
        var port = ChildServices.FreePort();
        var worker = await InProcessApp.StartAsync(
            new InProcessAppOptions
            {
                Port = port,
                Settings =
                [
                    Common(),
                    new Dictionary<string, string?>
                    {
                        ["Worker:ModelPath"] = ModelPath,
                        ["Worker:Role"] = role.ToString(),
                        ["Worker:AdvertisedUrl"] = $"http://127.0.0.1:{port}",
                        ["Worker:KvCapacityBlocks"] = "1024",
                        ["Worker:DrainTimeoutSeconds"] = "1",
                    },
                    settings,
                ],
            },
            static b => b.AddWorker(), static a => a.MapWorker());
        _apps.Add(worker.App);
        return worker.App;
    }

    /// <summary>A router of this cluster; the cluster stops it. Defaults disaggregate every prompt that has a full block.</summary>
    public async Task<(WebApplication App, Uri Address)> StartRouterAsync(Dictionary<string, string?> settings)
    {
        var router = await InProcessApp.StartAsync(
            new InProcessAppOptions
            {
                Settings =
                [
                    Common(),
                    new Dictionary<string, string?>
                    {
                        ["Router:ModelPath"] = ModelPath,
                        ["Router:CardRefreshSeconds"] = "1",
                        ["Router:Disaggregation:MaxLocalPrefillTokens"] = "0",
                        ["Router:Disaggregation:LocalPrefillCachedFraction"] = "1",
                    },
                    settings,
                ],
            },
            static b => b.AddRouter(), static a => a.MapRouter());
        _apps.Add(router.App);
        return (router.App, router.Address);
    }

    private Dictionary<string, string?> Common() => _brokers.Settings();
}
