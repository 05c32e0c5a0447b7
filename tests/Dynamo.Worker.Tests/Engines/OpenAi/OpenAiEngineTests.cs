using System.Net;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Tokenization;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Tests.Engines.OpenAi;

/// <summary>The worker's real generate API with Worker:Engine = openai, in front of <see cref="FakeOpenAiServer"/>: what passes through.</summary>
public sealed class OpenAiEngineTests
{
    [Fact]
    public async Task Generate_TokenIdServer_StreamsTheServersTokensAndUsage()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await OpenAiWorker.StartAsync(fake, new() { ["Worker:OpenAi:ApiKey"] = "sk-test", ["Worker:OpenAi:Model"] = "upstream-model" });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 6 }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(FakeOpenAiServer.ExpectedTokens(OpenAiWorker.Prompt, 6), OpenAiWorker.Tokens(events));
        Assert.Equal(Enumerable.Range(0, 6), events.Select(e => e.GetProperty("index").GetInt32()));
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
        Assert.All(events.SkipLast(1), e => Assert.False(e.TryGetProperty("finish_reason", out _)));
        Assert.Equal(FakeOpenAiServer.CachedTokens, events[0].GetProperty("cached_tokens").GetInt32());
        var usage = events[^1].GetProperty("usage");
        Assert.Equal(OpenAiWorker.Prompt.Length, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(6, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(FakeOpenAiServer.CachedTokens, usage.GetProperty("cached_tokens").GetInt32());
        Assert.False(events[0].TryGetProperty("logprob", out _));

        var sent = Assert.Single(fake.Requests);
        Assert.Equal("Bearer sk-test", Assert.Single(fake.Authorizations));
        Assert.Equal("upstream-model", sent["model"]!.GetValue<string>());
        Assert.Equal(OpenAiWorker.Prompt, sent["prompt"]!.AsArray().Select(n => n!.GetValue<int>()));
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
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();
        var body = new
        {
            token_ids = OpenAiWorker.Prompt,
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
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();
        var expected = FakeOpenAiServer.ExpectedTokens(OpenAiWorker.Prompt, 3);

        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 10, stop_token_ids = new[] { expected[2] } }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(expected, OpenAiWorker.Tokens(events));
        Assert.Equal("stop", events[^1].GetProperty("finish_reason").GetString());
        Assert.Equal(3, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Generate_LogprobsRequested_EventsCarryTheServersLogprobs()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 3, logprobs = 2 }), HttpCompletionOption.ResponseHeadersRead);
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
        await using var app = await OpenAiWorker.StartAsync(fake);
        using var client = app.CreateClient();

        using (var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 5000 }), HttpCompletionOption.ResponseHeadersRead))
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
    public async Task Generate_BaseUrlEndingInV1_PostsToV1Completions()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await OpenAiWorker.StartAsync(fake, new() { ["Worker:OpenAi:BaseUrl"] = new Uri(fake.BaseUrl, "v1").ToString() });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 2 }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        Assert.Equal(FakeOpenAiServer.ExpectedTokens(OpenAiWorker.Prompt, 2), OpenAiWorker.Tokens(events));
    }

    [Fact]
    public async Task Generate_TextOnlyServer_TokensAreTheTokenizersEncodingOfItsText()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.TextOnly;
        await using var app = await OpenAiWorker.StartAsync(fake, new() { ["Worker:OpenAi:Tokens"] = "Text", ["Worker:ModelPath"] = OpenAiWorker.VocabPath });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 5 }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        var text = string.Concat(Enumerable.Range(0, 5).Select(i => FakeOpenAiServer.Word(OpenAiWorker.Prompt, i)));
        var expected = Tokenizer.FromFile(OpenAiWorker.VocabPath).Encode(text, addSpecial: false);
        Assert.Equal(expected, OpenAiWorker.Tokens(events));
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
        Assert.Equal(5, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Null(Assert.Single(fake.Requests)["return_tokens_as_token_ids"]);
        Assert.Null(app.Services.GetRequiredService<WorkerModel>().Path);
    }

    [Fact]
    public async Task Generate_TextServerSplitsWordsAcrossChunks_DecodedTokensEqualItsTextExactly()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.Mode = FakeMode.TextSplitWords;
        await using var app = await OpenAiWorker.StartAsync(fake, new() { ["Worker:OpenAi:Tokens"] = "Text", ["Worker:ModelPath"] = OpenAiWorker.VocabPath });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = OpenAiWorker.Prompt, max_tokens = 40 }), HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        var text = string.Concat(Enumerable.Range(0, 40).Select(i => FakeOpenAiServer.Word(OpenAiWorker.Prompt, i)));
        var tokenizer = Tokenizer.FromFile(OpenAiWorker.VocabPath);
        var detokenizer = tokenizer.CreateStreamingDetokenizer(atStartOfText: true);
        var decoded = string.Concat(OpenAiWorker.Tokens(events).Select(detokenizer.Add)) + detokenizer.Flush();
        Assert.Equal(text, decoded);
        Assert.Equal(text, tokenizer.Decode([.. OpenAiWorker.Tokens(events)]));
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Generate_TokenizerConfigured_TokenOutsideItsVocabularyIs400()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        await using var app = await OpenAiWorker.StartAsync(fake, new() { ["Worker:ModelPath"] = OpenAiWorker.VocabPath });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = new[] { 1, 10_000_000 }, max_tokens = 3 }));
        var error = await OpenAiWorker.ErrorAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("token_ids", error.GetProperty("param").GetString());
        Assert.Empty(fake.Requests);
    }
}
