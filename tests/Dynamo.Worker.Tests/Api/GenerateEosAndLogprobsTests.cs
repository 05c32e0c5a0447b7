using System.Net;
using System.Text.Json;
using Dynamo.Runtime.Tokenization;
using Dynamo.Worker.Tests.Engine;

namespace Dynamo.Worker.Tests.Api;

[Collection(EngineCollection.Name)]
public sealed class GenerateEosAndLogprobsTests(EngineModelsFixture models)
{
    private static readonly int[] Prompt = [.. Enumerable.Range(100, 24)];

    [Fact]
    public async Task Generate_ModelEmitsEos_StopsThereWithFinishStop()
    {
        var eos = Eos();
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });

        var events = await GenerateAsync(app, new { token_ids = Prompt, max_tokens = 10, sampling = Favouring(eos) });

        var only = Assert.Single(events);
        Assert.Equal(eos, only.GetProperty("token_id").GetInt32());
        Assert.Equal("stop", only.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Generate_IgnoreEos_RunsToMaxTokensThroughEos()
    {
        var eos = Eos();
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });

        var events = await GenerateAsync(app, new { token_ids = Prompt, max_tokens = 5, ignore_eos = true, sampling = Favouring(eos) });

        Assert.Equal(5, events.Count);
        Assert.All(events, e => Assert.Equal(eos, e.GetProperty("token_id").GetInt32()));
        Assert.Equal("length", events[^1].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Generate_MinTokens_EosIsNeitherSampledNorHonouredBeforeIt()
    {
        var eos = Eos();
        var endOfGeneration = Tokenizer.FromFile(models.LlamaF32).EndOfGenerationIds;
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });

        var events = await GenerateAsync(app, new { token_ids = Prompt, max_tokens = 10, min_tokens = 3, sampling = Favouring(eos) });

        Assert.Equal(4, events.Count);
        Assert.All(events.Take(3), e => Assert.DoesNotContain(e.GetProperty("token_id").GetInt32(), endOfGeneration));
        Assert.Equal(eos, events[^1].GetProperty("token_id").GetInt32());
        Assert.Equal("stop", events[^1].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Generate_LogprobsGreedy_FiniteSortedAndTheSampledTokenIsTheMax()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });

        var events = await GenerateAsync(app, new { token_ids = Prompt, max_tokens = 6, logprobs = 5, ignore_eos = true, sampling = new { temperature = 0 } });

        Assert.Equal(6, events.Count);
        Assert.All(events, e =>
        {
            var logprob = e.GetProperty("logprob").GetSingle();
            var top = e.GetProperty("top_logprobs").EnumerateArray()
                .Select(t => (Token: t.GetProperty("token_id").GetInt32(), Logprob: t.GetProperty("logprob").GetSingle()))
                .ToArray();
            Assert.True(float.IsFinite(logprob) && logprob <= 0, $"logprob {logprob}");
            Assert.Equal(5, top.Length);
            Assert.All(top, t => Assert.True(float.IsFinite(t.Logprob) && t.Logprob <= 0));
            Assert.Equal(top.Select(t => t.Logprob).OrderDescending(), top.Select(t => t.Logprob));
            Assert.Equal(e.GetProperty("token_id").GetInt32(), top[0].Token);
            Assert.Equal(top[0].Logprob, logprob);
            Assert.True(top.Sum(t => Math.Exp(t.Logprob)) <= 1.0001);
        });
    }

    [Fact]
    public async Task Generate_NoLogprobsRequested_EventsCarryNone()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });

        var events = await GenerateAsync(app, new { token_ids = Prompt, max_tokens = 2, sampling = new { temperature = 0 } });

        Assert.All(events, e => Assert.False(e.TryGetProperty("logprob", out _) || e.TryGetProperty("top_logprobs", out _)));
    }

    [Theory]
    [InlineData("native", 21, 0, "logprobs")]
    [InlineData("native", -1, 0, "logprobs")]
    [InlineData("mocker", 2, 0, "logprobs")]
    [InlineData("native", 0, 11, "min_tokens")]
    public async Task Generate_InvalidLogprobsOrMinTokens_400NamingTheField(string engine, int logprobs, int minTokens, string param)
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32, ["Worker:Engine"] = engine });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 10, logprobs, min_tokens = minTokens }));
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    private int Eos()
    {
        var tokenizer = Tokenizer.FromFile(models.LlamaF32);
        return Assert.IsType<int>(tokenizer.Special.Eos);
    }

    private static object Favouring(int token) =>
        new { temperature = 0, logit_bias = new Dictionary<string, float> { [token.ToString(System.Globalization.CultureInfo.InvariantCulture)] = 100 } };

    private static async Task<List<JsonElement>> GenerateAsync(WorkerApp app, object body)
    {
        using var client = app.CreateClient();
        using var response = await client.SendAsync(WorkerApp.Generate(body), HttpCompletionOption.ResponseHeadersRead);
        return await WorkerApp.ReadEventsAsync(response);
    }
}
