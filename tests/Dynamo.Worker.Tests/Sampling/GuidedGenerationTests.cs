using System.Net;
using System.Text.Json;
using Dynamo.Runtime.Guided;
using Dynamo.Runtime.Tokenization;
using Dynamo.Worker.Models;
using Dynamo.Worker.Tests.Api;
using Dynamo.Worker.Tests.Engine;

namespace Dynamo.Worker.Tests.Sampling;

/// <summary>guided_json through the real worker: the tiny native model has random weights, so only the mask makes its output JSON.</summary>
[Collection(EngineCollection.Name)]
public sealed class GuidedGenerationTests(EngineModelsFixture models)
{
    // Every part is bounded (maxLength, enums, digit caps), so a model with random weights finishes well within max_tokens.
    private const string Schema = """
        {"type":"object","properties":{
          "name":{"type":"string","maxLength":10},
          "ok":{"type":"boolean"},
          "level":{"enum":["low","high"]},
          "count":{"type":"integer"},
          "tags":{"type":"array","items":{"type":"string","maxLength":6},"maxItems":3},
          "note":{"anyOf":[{"type":"null"},{"type":"number"}]}},
         "required":["name","ok","level","count","tags","note"]}
        """;

    private static readonly int[] Prompt = [.. Enumerable.Range(300, 20)];

    public static TheoryData<string> Samplings => new()
    {
        """{"temperature":0}""",
        """{"temperature":1.0,"seed":7}""",
        """{"temperature":0.8,"top_k":40,"top_p":0.9,"seed":11,"repetition_penalty":1.3}""",
    };

    [Theory]
    [MemberData(nameof(Samplings))]
    public async Task Generate_GuidedJson_NativeModelEmitsSchemaValidJsonThenEos(string sampling)
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });
        var tokenizer = Tokenizer.FromFile(models.LlamaF32);

        var text = await GenerateJsonAsync(app, tokenizer, sampling);

        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        Assert.Equal(["name", "ok", "level", "count", "tags", "note"], root.EnumerateObject().Select(p => p.Name));
        Assert.True(root.GetProperty("name").GetString()!.Length <= 10);
        Assert.Contains(root.GetProperty("level").GetString(), new[] { "low", "high" });
        Assert.True(root.GetProperty("count").TryGetInt64(out _));
        Assert.True(root.GetProperty("tags").GetArrayLength() <= 3);
        Assert.True(JsonSchemaGrammar.Compile(Schema).Accepts(text.Trim()), text);
    }

    [Fact]
    public async Task Generate_GuidedJsonSameSeed_SameOutput()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });
        var tokenizer = Tokenizer.FromFile(models.LlamaF32);

        var first = await GenerateJsonAsync(app, tokenizer, """{"temperature":1.0,"seed":3}""");
        var second = await GenerateJsonAsync(app, tokenizer, """{"temperature":1.0,"seed":3}""");

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Generate_GuidedJsonOnMockerWithVocabulary_FabricatedTokensFollowTheSchema()
    {
        await using var app = await WorkerApp.StartAsync(new()
        {
            ["Worker:Engine"] = "mocker",
            ["Worker:Mocker:SpeedUp"] = "1000",
            ["Worker:Mocker:GuidedVocabularyPath"] = LlamaModelGenerator.DefaultVocabularyPath,
        });
        var tokenizer = Tokenizer.FromFile(LlamaModelGenerator.DefaultVocabularyPath);

        var text = await GenerateJsonAsync(app, tokenizer, """{"seed":5}""");

        Assert.True(JsonSchemaGrammar.Compile(Schema).Accepts(text.Trim()), text);
    }

    [Fact]
    public async Task Generate_GuidedOutputTokens_ContinuesTheEarlierOutputToAValidValue()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });
        var tokenizer = Tokenizer.FromFile(models.LlamaF32);
        var earlier = tokenizer.Encode("""{"name": "Ada", "ok": true, "level": "hi""", addSpecial: false);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = (int[])[.. Prompt, .. earlier], max_tokens = 300, guided_json = Schema, guided_output_tokens = earlier.Length, sampling = new { temperature = 0 } }),
            HttpCompletionOption.ResponseHeadersRead);
        var tokens = (await WorkerApp.ReadEventsAsync(response)).Select(e => e.GetProperty("token_id").GetInt32()).ToArray();

        Assert.True(tokenizer.IsEndOfGeneration(tokens[^1]));
        var text = tokenizer.Decode([.. earlier, .. tokens[..^1]]);
        Assert.True(JsonSchemaGrammar.Compile(Schema).Accepts(text.Trim()), text);
        Assert.StartsWith("{\"name\": \"Ada\", \"ok\": true, \"level\": \"high\"", text.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_GuidedOutputTokensNotMatchingTheSchema_400()
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32 });
        var earlier = Tokenizer.FromFile(models.LlamaF32).Encode("[1, 2", addSpecial: false);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = (int[])[.. Prompt, .. earlier], max_tokens = 10, guided_json = Schema, guided_output_tokens = earlier.Length }));
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("guided_output_tokens", error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("native", """{"type":"string","pattern":"a+"}""", false, "guided_json", "pattern")]
    [InlineData("native", "{not json", false, "guided_json", "not valid JSON")]
    [InlineData("native", """{"type":"string"}""", true, "ignore_eos", "ignore_eos")]
    [InlineData("mocker", """{"type":"string"}""", false, "guided_json", "vocabulary")]
    public async Task Generate_GuidedJsonUnusable_400NamingTheField(string engine, string schema, bool ignoreEos, string param, string message)
    {
        await using var app = await WorkerApp.StartAsync(new() { ["Worker:ModelPath"] = models.LlamaF32, ["Worker:Engine"] = engine });
        using var client = app.CreateClient();

        using var response = await client.SendAsync(WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 10, guided_json = schema, ignore_eos = ignoreEos }));
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(message, error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Generates under <see cref="Schema"/>; asserts the stream ends with EOS and finish reason stop; returns the text before EOS.</summary>
    private static async Task<string> GenerateJsonAsync(WorkerApp app, ITokenizer tokenizer, string sampling)
    {
        using var client = app.CreateClient();
        using var samplingDocument = JsonDocument.Parse(sampling);
        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Prompt, max_tokens = 400, guided_json = Schema, sampling = samplingDocument.RootElement }),
            HttpCompletionOption.ResponseHeadersRead);
        var events = await WorkerApp.ReadEventsAsync(response);

        var tokens = events.Select(e => e.GetProperty("token_id").GetInt32()).ToArray();
        Assert.Equal("stop", events[^1].GetProperty("finish_reason").GetString());
        Assert.True(tokenizer.IsEndOfGeneration(tokens[^1]), $"last token {tokens[^1]}");
        return tokenizer.Decode(tokens.AsSpan(0, tokens.Length - 1));
    }
}
