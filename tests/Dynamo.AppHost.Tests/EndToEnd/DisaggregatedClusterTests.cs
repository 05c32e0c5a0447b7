using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.RegularExpressions;
using Dynamo.AppHost.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Dynamo.AppHost.Tests.EndToEnd;

/// <summary>
/// The local cluster started with <c>--disaggregated</c>: resources prefill-worker and decode-worker instead of
/// worker, and a chat completion through the gateway whose prompt the prefill worker computes and the decode worker
/// continues, as the routing header and the workers' metrics show.
/// </summary>
public sealed class DisaggregatedClusterTests
{
    private const string Model = GatewayClusterFixture.Model;

    [Fact]
    public async Task CompleteChat_DisaggregatedTopology_PrefillWorkerComputesThePromptAndDecodeWorkerAnswers()
    {
        await using var host = AppHostProcess.Start("--no-build", "--grace-period", "5", "--disaggregated", "--AppHost:MaxLocalPrefillTokens=0");
        var endpoints = await host.WaitUntilAllRunningAsync();
        Assert.Contains("prefill-worker", endpoints.Resources.Keys);
        Assert.Contains("decode-worker", endpoints.Resources.Keys);
        Assert.DoesNotContain("worker", endpoints.Resources.Keys);
        var gateway = endpoints.Resources["gateway"].Urls[0];
        var client = new OpenAIClient(new ApiKeyCredential(endpoints.ApiKey!), new OpenAIClientOptions
        {
            Endpoint = new Uri($"{gateway}/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromMinutes(2),
        });
        await WaitUntilServedAsync(client, host);
        var chat = client.GetChatClient(Model);

        var result = await chat.CompleteChatAsync(
            [new UserChatMessage("Tell me, in a few words, why a prefill worker and a decode worker split one request between them.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 });
        Assert.True(result.GetRawResponse().Headers.TryGetValue("x-dynamo-routing", out var routing), "no x-dynamo-routing header");

        Assert.Equal(ChatFinishReason.Length, result.Value.FinishReason);
        Assert.Equal(8, result.Value.Usage.OutputTokenCount);
        Assert.Equal("remote", Field(routing!, "prefill"));
        Assert.StartsWith("prefill-worker", Field(routing!, "prefill_worker"), StringComparison.Ordinal);
        Assert.StartsWith("decode-worker", Field(routing!, "worker"), StringComparison.Ordinal);
        // The prompt's full blocks were computed on the prefill worker; the decode worker computed only what follows them.
        var prefillComputed = await MetricAsync(host, endpoints.Resources["prefill-worker"].Urls[0], "dynamo_worker_scheduler_computed_prompt_tokens");
        var decodeComputed = await MetricAsync(host, endpoints.Resources["decode-worker"].Urls[0], "dynamo_worker_scheduler_computed_prompt_tokens");
        Assert.True(prefillComputed >= 16, $"prefill worker computed {prefillComputed} prompt tokens");
        Assert.True(decodeComputed < result.Value.Usage.InputTokenCount, $"decode worker computed {decodeComputed} of {result.Value.Usage.InputTokenCount} prompt tokens");
    }

    [Fact]
    public async Task Start_UnknownTopology_FailsWithOneLineNamingTheOption()
    {
        await using var host = AppHostProcess.Start("--no-build", "--AppHost:Topology=split");

        Assert.True(await host.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(Dynamo.AppHost.Hosting.ExitCodes.InvalidOptions, host.ExitCode);
        var line = Assert.Single(host.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal("Dynamo.AppHost: error: AppHost:Topology must be 'aggregated' or 'disaggregated' (was 'split').", line);
    }

    private static string Field(string routing, string name)
    {
        var match = Regex.Match(routing, $"(?:^|; ){Regex.Escape(name)}=(?<v>[^;]*)");
        Assert.True(match.Success, $"no {name} in '{routing}'");
        return match.Groups["v"].Value;
    }

    private static async Task<double> MetricAsync(AppHostProcess host, string url, string metric)
    {
        var text = await host.Http.GetStringAsync($"{url}/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(metric + " ", StringComparison.Ordinal) || l.StartsWith(metric + "{", StringComparison.Ordinal)
                || l.StartsWith(metric + "_total", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    /// <summary>Until the gateway lists the model (the router's card is published once it and both workers are up).</summary>
    private static async Task WaitUntilServedAsync(OpenAIClient client, AppHostProcess host)
    {
        var models = client.GetOpenAIModelClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await models.GetModelsAsync()).Value.Any(m => m.Id == Model))
                {
                    return;
                }
            }
            catch (ClientResultException)
            {
                // Not provisioned yet: the gateway refuses until the key and the card exist.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The gateway did not list {Model}:\n{host.StandardOutput[^Math.Min(6000, host.StandardOutput.Length)..]}");
    }
}
