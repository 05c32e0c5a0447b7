using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.Runtime.Generation;
using Dynamo.TestSupport;
using Dynamo.TestSupport.Hosting;
using Dynamo.Worker.Api;
using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Tests.Disaggregation;

/// <summary>
/// A real worker (as Program.cs maps it) on 127.0.0.1 with free ports; <see cref="Address"/> is its h2c request plane,
/// which routers and the prefill → decode push use.
/// </summary>
internal sealed class DisaggWorker : IAsyncDisposable
{
    private readonly InProcessApp _app;

    private DisaggWorker(InProcessApp app)
    {
        _app = app;
        Address = new Uri($"http://127.0.0.1:{app.Services.GetRequiredService<WorkerRequestPlane>().Port}");
        Client = new HttpClient
        {
            BaseAddress = Address,
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

    public static async Task<DisaggWorker> StartAsync(string role, Dictionary<string, string?> settings) =>
        new(await InProcessApp.StartAsync(
            new InProcessAppOptions { Settings = [WorkerApp.Standalone, new Dictionary<string, string?> { ["Worker:Role"] = role }, settings] },
            static b => b.AddWorker(), static a => a.MapWorker()));

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
    public static Task WaitUntilAsync(Func<bool> condition) => Eventually.TrueAsync(condition, "the polled condition", seconds: 30);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
