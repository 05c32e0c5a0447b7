using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.TestSupport.Hosting;
using Dynamo.Worker.Api;
using Dynamo.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Tests.Api;

/// <summary>The real worker app (as Program.cs composes it) on 127.0.0.1 with a free port.</summary>
internal sealed class WorkerApp : IAsyncDisposable
{
    private readonly InProcessApp _app;

    private WorkerApp(InProcessApp app) => _app = app;

    /// <summary>
    /// A worker with no registry or event plane (both addresses refuse connections; it degrades to serving only) and a
    /// small KV pool; tests layer their own settings on top.
    /// </summary>
    public static Dictionary<string, string?> Standalone => new()
    {
        ["ConnectionStrings:redis"] = "127.0.0.1:1",
        ["ConnectionStrings:nats"] = "nats://127.0.0.1:1",
        ["Worker:AdvertisedUrl"] = "http://127.0.0.1:18080",
        ["Worker:KvCapacityBlocks"] = "256",
    };

    public Uri Address => _app.Address;

    public WorkerEngineHost Engine => _app.Services.GetRequiredService<WorkerEngineHost>();

    public IServiceProvider Services => _app.Services;

    public static async Task<WorkerApp> StartAsync(Dictionary<string, string?> settings) =>
        new(await InProcessApp.StartAsync(
            new InProcessAppOptions { Settings = [Standalone, settings] }, static b => b.AddWorker(), static a => a.MapWorker()));

    public static HttpRequestMessage Generate(object body, Version? version = null) =>
        new(HttpMethod.Post, GenerateApi.Path)
        {
            Content = JsonContent.Create(body),
            Version = version ?? HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

    public HttpClient CreateClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Reads the whole SSE stream into its <c>data:</c> payloads.</summary>
    public static async Task<List<JsonElement>> ReadEventsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<JsonElement>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            Assert.False(line.StartsWith("event: error", StringComparison.Ordinal), line);
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
            }
        }

        return events;
    }

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage response) => response.Content.Headers.ContentType;

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
