using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.Runtime.Generation;
using Dynamo.Worker.Api;
using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Tests.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Worker.Tests.Disaggregation;

/// <summary>
/// A real worker (as Program.cs maps it) on 127.0.0.1 with free ports; <see cref="Address"/> is its h2c request plane,
/// which routers and the prefill → decode push use.
/// </summary>
internal sealed class DisaggWorker : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DisaggWorker(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Client = new HttpClient
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(120),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public WorkerEngineHost Engine => _app.Services.GetRequiredService<WorkerEngineHost>();

    public KvTransferRegistry Transfers => _app.Services.GetRequiredService<KvTransferRegistry>();

    public DisaggregatedDecode Decode => _app.Services.GetRequiredService<DisaggregatedDecode>();

    public static async Task<DisaggWorker> StartAsync(string role, Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = "127.0.0.1:1",
            ["ConnectionStrings:nats"] = "nats://127.0.0.1:1",
            ["Worker:AdvertisedUrl"] = "http://127.0.0.1:18080",
            ["Worker:Role"] = role,
            ["Worker:KvCapacityBlocks"] = "256",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        builder.AddWorkerServices();
        var app = builder.Build();
        app.MapGenerateApi();
        app.MapDisaggregationApi();
        await app.StartAsync();
        var plane = app.Services.GetRequiredService<WorkerRequestPlane>();
        return new DisaggWorker(app, new Uri($"http://127.0.0.1:{plane.Port}"));
    }

    /// <summary>Streams a generate request to the end and returns its token ids.</summary>
    public async Task<List<int>> GenerateAsync(object body, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, GenerateApi.Path)
        {
            Content = JsonContent.Create(body),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"generate answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        var events = await WorkerApp.ReadEventsAsync(response);
        return [.. events.Select(e => e.GetProperty("token_id").GetInt32())];
    }

    public async Task<(HttpStatusCode Status, PrefillResult? Result, string Text)> PrefillAsync(int[] prompt, string transferId, string decodeUrl, CancellationToken cancellationToken = default)
    {
        using var response = await Client.PostAsJsonAsync(
            DisaggregationApi.PrefillPath, new { token_ids = prompt, transfer_id = transferId, decode_url = decodeUrl }, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var result = response.IsSuccessStatusCode ? JsonSerializer.Deserialize(text, GenerateJsonContext.Default.PrefillResult) : null;
        return (response.StatusCode, result, text);
    }

    /// <summary>Polls (never asserts timing) until <paramref name="condition"/> holds or 30 s pass.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
