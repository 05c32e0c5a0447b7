using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Tokenization;
using Dynamo.TestSupport;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Tests.Api;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Tests.Engines.OpenAi;

/// <summary>The worker's real generate API with Worker:Engine = openai, in front of <see cref="FakeOpenAiServer"/>.</summary>
public sealed class OpenAiEngineTests
{
    private static readonly int[] Prompt = [.. Enumerable.Range(100, 12)];

    private static string VocabPath => Path.Combine(RepoPaths.Root, "models", "vocab", "llama-spm.gguf");

    [Fact]
    public async Task Generate_TokenIdServer_StreamsTheServersTokensAndUsage()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await StartWorkerAsync(fake, new() { ["Worker:OpenAi:ApiKey"] = "sk-test", ["Worker:OpenAi:Model"] = "upstream-model" });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 6 }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(FakeOpenAiServer.ExpectedTokens(Prompt, 6), Tokens(events));
        Assert.Equal(Enumerable.Range(0, 6), events.Select(e => e.GetProperty("index").GetInt32()));
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
        Assert.All(events.SkipLast(1), e => Assert.False(e.TryGetProperty("finish_reason", out _)));
        Assert.Equal(FakeOpenAiServer.CachedTokens, events[0].GetProperty("cached_tokens").GetInt32());
        var usage = events[^1].GetProperty("usage");
        Assert.Equal(Prompt.Length, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(6, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(FakeOpenAiServer.CachedTokens, usage.GetProperty("cached_tokens").GetInt32());
        Assert.False(events[0].TryGetProperty("logprob", out _));

        var sent = Assert.Single(fake.Requests);
        Assert.Equal("Bearer sk-test", Assert.Single(fake.Authorizations));
        Assert.Equal("upstream-model", sent["model"]!.GetValue<string>());
        Assert.Equal(Prompt, sent["prompt"]!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal(6, sent["max_tokens"]!.GetValue<int>());
        Assert.True(sent["stream"]!.GetValue<bool>());
        Assert.True(sent["stream_options"]!["include_usage"]!.GetValue<bool>());
        Assert.True(sent["return_tokens_as_token_ids"]!.GetValue<bool>());
        Assert.Equal(1, sent["logprobs"]!.GetValue<int>());
        Assert.Equal("openai", app.Services.GetRequiredService<WorkerRegistration>().Engine);
        Assert.Null(app.Services.GetRequiredService<WorkerModel>().Path);
        Assert.Null(app.Engine.LocalKvBlocks);
    }

    [Fact]
    public async Task Generate_SamplingFields_AreForwardedWithVllmNames()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await StartWorkerAsync(fake);
        using var client = app.CreateClient();
        var body = new
        {
            token_ids = Prompt,
            max_tokens = 3,
            ignore_eos = true,
            min_tokens = 2,
            stop_token_ids = new[] { 7 },
            sampling = new
            {
                temperature = 0.5,
                top_p = 0.75,
                top_k = 40,
                min_p = 0.125,
                seed = 11,
                presence_penalty = 0.5,
                frequency_penalty = 0.25,
                repetition_penalty = 1.5,
                logit_bias = new Dictionary<string, float> { ["5"] = -100 },
            },
        };

        using var response = await client.SendAsync(WorkerApp.Generate(body), HttpCompletionOption.ResponseHeadersRead);
        await WorkerApp.ReadEventsAsync(response);

        var sent = Assert.Single(fake.Requests);
        Assert.Equal(0.5f, sent["temperature"]!.GetValue<float>());
        Assert.Equal(0.75f, sent["top_p"]!.GetValue<float>());
        Assert.Equal(40, sent["top_k"]!.GetValue<int>());
        Assert.Equal(0.125f, sent["min_p"]!.GetValue<float>());
        Assert.Equal(11, sent["seed"]!.GetValue<long>());
        Assert.Equal(0.5f, sent["presence_penalty"]!.GetValue<float>());
        Assert.Equal(0.25f, sent["frequency_penalty"]!.GetValue<float>());
        Assert.Equal(1.5f, sent["repetition_penalty"]!.GetValue<float>());
        Assert.Equal(-100f, sent["logit_bias"]!["5"]!.GetValue<float>());
        Assert.Equal([7], sent["stop_token_ids"]!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.True(sent["ignore_eos"]!.GetValue<bool>());
        Assert.Equal(2, sent["min_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Generate_ServerStopsAtAStopTokenId_LastEventIsThatTokenWithStop()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await StartWorkerAsync(fake);
        using var client = app.CreateClient();
        var expected = FakeOpenAiServer.ExpectedTokens(Prompt, 3);

        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 10, stop_token_ids = new[] { expected[2] } }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(expected, Tokens(events));
        Assert.Equal("stop", events[^1].GetProperty("finish_reason").GetString());
        Assert.Equal(3, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Generate_LogprobsRequested_EventsCarryTheServersLogprobs()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await StartWorkerAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 3, logprobs = 2 }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(2, Assert.Single(fake.Requests)["logprobs"]!.GetValue<int>());
        for (var i = 0; i < events.Count; i++)
        {
            var token = events[i].GetProperty("token_id").GetInt32();
            Assert.Equal(FakeOpenAiServer.Logprob(i), events[i].GetProperty("logprob").GetSingle());
            var top = events[i].GetProperty("top_logprobs").EnumerateArray().ToList();
            Assert.Equal([token, token + 1], top.Select(t => t.GetProperty("token_id").GetInt32()));
            Assert.Equal([FakeOpenAiServer.Logprob(i), FakeOpenAiServer.Logprob(i) - 1], top.Select(t => t.GetProperty("logprob").GetSingle()));
        }
    }

    [Fact]
    public async Task Generate_ClientDisconnectsMidStream_UpstreamRequestIsAborted()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.TokenDelay = TimeSpan.FromMilliseconds(50);
        await using var app = await StartWorkerAsync(fake);
        using var client = app.CreateClient();

        using (var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 5000 }), HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var seen = 0;
            while (seen < 2 && await reader.ReadLineAsync() is { } line)
            {
                seen += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }

            Assert.Equal(2, seen);
            Assert.Equal(1, app.Engine.Backend.Running);
        }

        await fake.Aborted.WaitAsync(TimeSpan.FromSeconds(30));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (app.Engine.Backend.Running != 0)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    [Fact]
    public async Task Generate_ServerRejectsWith400_Returns400WithTheServersMessage()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.Reject400;
        await using var app = await StartWorkerAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 4 }));
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("This model's maximum context length is 8 tokens.", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Generate_ServerFailsWith500_Returns502NamingTheServerAndCountsTheFailure()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.Fail500;
        await using var app = await StartWorkerAsync(fake);
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

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 4 }));
        var error = await ErrorAsync(response);

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
        await using var app = await StartWorkerAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 4 }));
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("instead of a stream", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_BaseUrlEndingInV1_PostsToV1Completions()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await StartWorkerAsync(fake, new() { ["Worker:OpenAi:BaseUrl"] = new Uri(fake.BaseUrl, "v1").ToString() });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 2 }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(FakeOpenAiServer.ExpectedTokens(Prompt, 2), Tokens(events));
    }

    [Fact]
    public async Task Generate_ServerUnreachable_Returns503WithRetryAfter()
    {
        await using var app = await WorkerApp.StartAsync(new()
        {
            ["Worker:Engine"] = "openai",
            ["Worker:OpenAi:BaseUrl"] = $"http://127.0.0.1:{ClosedPort()}",
        });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 4 }));
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Contains("unreachable", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_StreamBreaksMidGeneration_TokensThenAnErrorEvent()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.BreakMidStream;
        await using var app = await StartWorkerAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 8 }), HttpCompletionOption.ResponseHeadersRead);
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
        Assert.Equal(FakeOpenAiServer.ExpectedTokens(Prompt, 2), tokens);
        Assert.Contains("broke after 2 tokens", lines[errorAt + 1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_TextOnlyServer_TokensAreTheTokenizersEncodingOfItsText()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.TextOnly;
        await using var app = await StartWorkerAsync(fake, new() { ["Worker:OpenAi:Tokens"] = "Text", ["Worker:ModelPath"] = VocabPath });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 5 }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        var text = string.Concat(Enumerable.Range(0, 5).Select(i => FakeOpenAiServer.Word(Prompt, i)));
        var expected = Tokenizer.FromFile(VocabPath).Encode(text, addSpecial: false);
        Assert.Equal(expected, Tokens(events));
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
        Assert.Equal(5, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Null(Assert.Single(fake.Requests)["return_tokens_as_token_ids"]);
        Assert.Null(app.Services.GetRequiredService<WorkerModel>().Path);
    }

    [Fact]
    public async Task Generate_TokenIdModeServerAnswersTextWithoutTokenizer_ErrorEventSaysHowToConfigure()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.TextOnly;
        await using var app = await StartWorkerAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 3 }), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("event: error", body, StringComparison.Ordinal);
        Assert.Contains("Worker:OpenAi:Tokens", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_TokenizerConfigured_TokenOutsideItsVocabularyIs400()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await StartWorkerAsync(fake, new() { ["Worker:ModelPath"] = VocabPath });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = new[] { 1, 10_000_000 }, max_tokens = 3 }));
        var error = await ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("token_ids", error.GetProperty("param").GetString());
        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task Generate_ForwardingSlotsAndQueueFull_Returns503WithRetryAfter()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.TokenDelay = TimeSpan.FromMilliseconds(50);
        await using var app = await StartWorkerAsync(fake, new() { ["Worker:OpenAi:MaxConcurrency"] = "1", ["Worker:OpenAi:WaitingCapacity"] = "1" });
        using var client = app.CreateClient();
        var body = new { token_ids = Prompt, max_tokens = 5000 };

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
        var error = await ErrorAsync(rejected);

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

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWorkerAsync(fake, new() { ["Worker:OpenAi:Tokens"] = "Text" }));

        Assert.Contains("Worker:ModelPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithoutBaseUrl_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => WorkerApp.StartAsync(new() { ["Worker:Engine"] = "openai" }));

        Assert.Contains("Worker:OpenAi:BaseUrl", error.Message, StringComparison.Ordinal);
    }

    private static Task<WorkerApp> StartWorkerAsync(FakeOpenAiServer fake, Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Worker:Engine"] = "openai",
            ["Worker:OpenAi:BaseUrl"] = fake.BaseUrl.ToString(),
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return WorkerApp.StartAsync(all);
    }

    private static async Task<JsonElement> ErrorAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("error").Clone();
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static List<int> Tokens(List<JsonElement> events) => [.. events.Select(e => e.GetProperty("token_id").GetInt32())];
}
