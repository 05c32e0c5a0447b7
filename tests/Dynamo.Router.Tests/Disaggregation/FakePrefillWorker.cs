using Dynamo.Runtime.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Router.Tests.Disaggregation;

/// <summary>
/// A prefill worker stand-in on Kestrel: it reads the prefill request, then either resets the connection (a worker
/// that died mid-request) or holds it open until the router aborts it (a long prefill), recording what it saw.
/// </summary>
internal sealed class FakePrefillWorker : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource<string> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakePrefillWorker(WebApplication app) => _app = app;

    public string Address { get; private set; } = "";

    /// <summary>The body of the first prefill request.</summary>
    public Task<string> Received => _received.Task;

    /// <summary>Completes when a held request was aborted by its client (the router).</summary>
    public Task Aborted => _aborted.Task;

    /// <param name="hold">True: keep the request open until the client aborts it; false: reset the connection at once.</param>
    public static async Task<FakePrefillWorker> StartAsync(bool hold)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakePrefillWorker(app);
        app.MapPost("/v1/internal/prefill", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            fake._received.TrySetResult(await reader.ReadToEndAsync());
            if (!hold)
            {
                context.Abort();
                return;
            }

            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                fake._aborted.TrySetResult();
            }
        });
        await app.StartAsync();
        fake.Address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return fake;
    }

    /// <summary>A registration that makes the router take this for a prefill worker of <paramref name="model"/>.</summary>
    public WorkerRegistration Registration(string id, string model) =>
        new(id, model, WorkerRole.Prefill, "native", new WorkerEndpoints(Address), 16, 1024, DateTimeOffset.UtcNow);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
