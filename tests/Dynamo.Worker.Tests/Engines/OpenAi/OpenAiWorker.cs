using System.Text.Json;
using Dynamo.TestSupport;
using Dynamo.Worker.Tests.Api;

namespace Dynamo.Worker.Tests.Engines.OpenAi;

/// <summary>A worker app with Worker:Engine = openai pointed at a fake server, and readers for its answers.</summary>
internal static class OpenAiWorker
{
    public static readonly int[] Prompt = [.. Enumerable.Range(100, 12)];

    public static string VocabPath => Path.Combine(RepoPaths.Root, "models", "vocab", "llama-spm.gguf");

    public static Task<WorkerApp> StartAsync(FakeOpenAiServer fake, Dictionary<string, string?>? settings = null)
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

    public static async Task<JsonElement> ErrorAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("error").Clone();
    }

    /// <summary>A loopback port that nothing listens on once picked (the probe listener is closed again).</summary>
    public static int ClosedPort() => ChildServices.FreePort();

    public static List<int> Tokens(List<JsonElement> events) => [.. events.Select(e => e.GetProperty("token_id").GetInt32())];
}
