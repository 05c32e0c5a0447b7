using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Orchestration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.AppHost.Tests.Cluster;

/// <summary>
/// The AppHost's orchestrator run in-process on a topology of its own: nats-server, redis-server and three real
/// worker processes (mocker engine), nothing else. No planner runs, so nothing but the test scales the workers.
/// </summary>
public sealed class DrainClusterFixture : IAsyncLifetime
{
    public const string Worker = "worker";
    public const int Replicas = 3;

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(180);

    private readonly string _state = Path.Combine(Path.GetTempPath(), "dynamo-apphost-tests", "drain-" + Guid.NewGuid().ToString("N")[..8]);
    private DistributedApplication? _app;
    private Task<int>? _run;

    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(120) };

    public string ControlUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_state);
        // The worker's drain timeout (60 s) and the AppHost's grace period (60 s) both outlast the test's stream.
        var builder = DistributedApplication.CreateBuilder(["--no-build", "--state-dir", _state, "--grace-period", "60"]);
        var nats = builder.AddNats("nats");
        var redis = builder.AddRedis("redis");
        builder.AddProject<Projects.Dynamo_Worker>(Worker)
            .WithEnvironment("Worker__Engine", "mocker")
            .WithEnvironment("Worker__KvCapacityBlocks", "256")
            .WithEnvironment("Worker__DrainTimeoutSeconds", "60")
            .WithReference(nats).WithReference(redis)
            .WaitFor(nats).WaitFor(redis)
            .WithReplicas(Replicas);
        _app = builder.Build();
        _run = _app.RunAsync();
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (ReadEndpoints() is not { } document || document.Resources.Count != 3 || document.Resources.Values.Any(r => r.State != "Running"))
        {
            if (_run.IsCompleted)
            {
                throw new InvalidOperationException($"The AppHost stopped with exit code {await _run} before the workers ran.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The drain cluster was not running within {s_startTimeout.TotalSeconds} s.");
            }

            await Task.Delay(250);
        }

        ControlUrl = ReadEndpoints()!.ControlUrl;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            _app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
            if (_run is not null)
            {
                await _run;
            }

            await _app.DisposeAsync();
        }

        Http.Dispose();
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public async Task<ResourceSnapshot> GetAsync(string name = Worker)
        => (await Http.GetFromJsonAsync<ResourceSnapshot>($"{ControlUrl}/api/resources/{name}", EndpointsFile.JsonOptions))!;

    /// <summary>Polls the control API until the condition holds; bounded, so a broken drain fails instead of hanging.</summary>
    public async Task<ResourceSnapshot> WaitForAsync(Func<ResourceSnapshot, bool> condition, string name = Worker)
    {
        var deadline = DateTime.UtcNow + s_startTimeout;
        ResourceSnapshot last;
        while (!condition(last = await GetAsync(name)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{name} never reached the expected state; last: {JsonSerializer.Serialize(last, EndpointsFile.JsonOptions)}");
            await Task.Delay(200);
        }

        return last;
    }

    /// <summary>Posts to a worker replica's internal generate endpoint directly (not through the proxy).</summary>
    public Task<HttpResponseMessage> GenerateAsync(string replicaUrl, int maxTokens, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"{replicaUrl}/v1/internal/generate")
        {
            Content = JsonContent.Create(new { token_ids = Enumerable.Range(100, 40).ToArray(), max_tokens = maxTokens }),
        };
        return Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>The next <c>data:</c> event of a generate stream, or null at its end.</summary>
    public static async Task<JsonElement?> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            Assert.False(line.StartsWith("event: error", StringComparison.Ordinal), line);
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
        }

        return null;
    }

    private EndpointsDocument? ReadEndpoints()
    {
        try
        {
            return JsonSerializer.Deserialize<EndpointsDocument>(File.ReadAllText(Path.Combine(_state, "endpoints.json")), EndpointsFile.JsonOptions);
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }
}
