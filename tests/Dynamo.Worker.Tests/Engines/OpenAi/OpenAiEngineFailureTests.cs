using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Dynamo.Worker.Tests.Api;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Tests.Engines.OpenAi;

/// <summary>How the openai engine reports an upstream that refuses, fails, breaks or is away, a full queue and bad settings.</summary>
public sealed class OpenAiEngineFailureTests
{
    [Fact]
    public async Task Generate_ServerRejectsWith400_Returns400WithTheServersMessage()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.Reject400;
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 4 }));
        var error = await OpenAiWorker.ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("This model's maximum context length is 8 tokens.", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Generate_ServerFailsWith500_Returns502NamingTheServerAndCountsTheFailure()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.Fail500;
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();
        var failures = new ConcurrentQueue<string?>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == app.Services.GetRequiredService<IMeterFactory>() && instrument.Name == "dynamo_worker_openai_upstream_failures")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "kind")
                {
                    failures.Enqueue(tag.Value as string);
                }
            }
        });
        listener.Start();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 4 }));
        var error = await OpenAiWorker.ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("engine crashed", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(fake.BaseUrl.Authority, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Single(fake.Requests);
        Assert.Equal("server_error", Assert.Single(failures));
    }

    [Fact]
    public async Task Generate_ServerIgnoresStreamTrue_Returns502()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.IgnoreStream;
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 4 }));
        var error = await OpenAiWorker.ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("instead of a stream", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_ServerUnreachable_Returns503WithRetryAfter()
    {
        await using var app = await WorkerApp.StartAsync(new()
        {
            ["Worker:Engine"] = "openai",
            ["Worker:OpenAi:BaseUrl"] = $"http://127.0.0.1:{OpenAiWorker.ClosedPort()}",
        });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 4 }));
        var error = await OpenAiWorker.ErrorAsync(response);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Contains("unreachable", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_StreamBreaksMidGeneration_TokensThenAnErrorEvent()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.BreakMidStream;
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 8 }), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<string> { (await reader.ReadLineAsync())! };
        fake.ReleaseBreak();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length > 0)
            {
                lines.Add(line);
            }
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var errorAt = lines.IndexOf("event: error");
        Assert.True(errorAt >= 0, string.Join('\n', lines));
        var tokens = lines[..errorAt].Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement.GetProperty("token_id").GetInt32());
        Assert.Equal(FakeOpenAiServer.ExpectedTokens(OpenAiWorker.Prompt, 2), tokens);
        Assert.Contains("broke after 2 tokens", lines[errorAt + 1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_TokenIdModeServerAnswersTextWithoutTokenizer_ErrorEventSaysHowToConfigure()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.TextOnly;
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 3 }), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("event: error", body, StringComparison.Ordinal);
        Assert.Contains("Worker:OpenAi:Tokens", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_ForwardingSlotsAndQueueFull_Returns503WithRetryAfter()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.TokenDelay = TimeSpan.FromMilliseconds(50);
        await using var app = await OpenAiWorker.StartAsync(fake, new() { ["Worker:OpenAi:MaxConcurrency"] = "1", ["Worker:OpenAi:WaitingCapacity"] = "1" });
        using var client = app.CreateClient();
        var body = new { token_ids = OpenAiWorker.Prompt, max_tokens = 5000 };

        using var running = await client.SendAsync(WorkerApp.Generate(body), HttpCompletionOption.ResponseHeadersRead);
        using var runningReader = new StreamReader(await running.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await runningReader.ReadLineAsync(), StringComparison.Ordinal);
        using var cancelWaiting = new CancellationTokenSource();
        var waiting = client.SendAsync(WorkerApp.Generate(body), HttpCompletionOption.ResponseHeadersRead, cancelWaiting.Token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (app.Engine.Backend.Waiting != 1)
        {
            await Task.Delay(20, timeout.Token);
        }

        using var rejected = await client.SendAsync(WorkerApp.Generate(body));
        var error = await OpenAiWorker.ErrorAsync(rejected);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), rejected.Headers.RetryAfter?.Delta);
        Assert.Equal("service_unavailable", error.GetProperty("type").GetString());
        Assert.Equal(1, app.Engine.Backend.Running);
        Assert.Single(fake.Requests);
        await cancelWaiting.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Start_TextModeWithoutModelPath_FailsNamingTheSetting()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => OpenAiWorker.StartAsync(fake, new() { ["Worker:OpenAi:Tokens"] = "Text" }));

        Assert.Contains("Worker:ModelPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithoutBaseUrl_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => WorkerApp.StartAsync(new() { ["Worker:Engine"] = "openai" }));

        Assert.Contains("Worker:OpenAi:BaseUrl", error.Message, StringComparison.Ordinal);
    }
}
