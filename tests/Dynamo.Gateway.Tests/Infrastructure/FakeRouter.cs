using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Dynamo.TestSupport.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamo.Gateway.Tests.Infrastructure;

/// <summary>What the fake router saw of one request.</summary>
internal sealed record ObservedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A small OpenAI-compatible backend on Kestrel (127.0.0.1, free port) standing in for a router. Non-streaming chat answers
/// carry <see cref="UsageTokens"/> as usage; a streaming answer sends one event, then waits for <see cref="ReleaseStream"/>
/// before the rest, and notes the client going away in <see cref="Aborted"/>.
/// </summary>
internal sealed class FakeRouter : IAsyncDisposable
{
    public const string FirstEvent = """{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}""";
    public const string SecondEvent = """{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"}}]}""";

    private InProcessApp? _app;

    private FakeRouter()
    {
    }

    public Uri Address => _app!.Address;

    public ConcurrentQueue<ObservedRequest> Requests { get; } = new();

    public int UsageTokens { get; set; } = 7;

    /// <summary>When set, every answer is this status with an OpenAI error body.</summary>
    public int? FailWithStatus { get; set; }

    public TaskCompletionSource ReleaseStream { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource StreamStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public const string ErrorBody = """{"error":{"message":"max_tokens must be positive","type":"invalid_request_error","param":"max_tokens","code":null}}""";

    public static async Task<FakeRouter> StartAsync()
    {
        var router = new FakeRouter();
        router._app = await InProcessApp.StartAsync(
            new InProcessAppOptions { EnvironmentName = Environments.Production, Slim = true },
            static b => b.Logging.ClearProviders(),
            a =>
            {
                a.MapPost("/v1/{**path}", router.HandleAsync);
                a.MapGet("/v1/{**path}", router.HandleAsync);
            });
        return router;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(aborted);
        Requests.Enqueue(new ObservedRequest(
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body));

        if (FailWithStatus is { } status)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(ErrorBody, aborted);
            return;
        }

        if (context.Request.Method == HttpMethods.Get)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"object":"list","data":[{"id":"fallback-model","object":"model","created":0,"owned_by":"router"}]}""", aborted);
            return;
        }

        var stream = body.Length > 0 && JsonDocument.Parse(body).RootElement.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                $$$"""{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":{{{UsageTokens - 2}}},"total_tokens":{{{UsageTokens}}}}}""",
                aborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        await context.Response.WriteAsync($"data: {FirstEvent}\n\n", aborted);
        await context.Response.Body.FlushAsync(aborted);
        StreamStarted.TrySetResult();
        try
        {
            await ReleaseStream.Task.WaitAsync(aborted);
        }
        catch (OperationCanceledException)
        {
            Aborted.TrySetResult();
            return;
        }

        await context.Response.WriteAsync($"data: {SecondEvent}\n\n", aborted);
        await context.Response.WriteAsync(
            $$$"""data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":{{{UsageTokens - 2}}},"total_tokens":{{{UsageTokens}}}}}""" + "\n\n",
            aborted);
        await context.Response.WriteAsync("data: [DONE]\n\n", aborted);
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseStream.TrySetResult();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
