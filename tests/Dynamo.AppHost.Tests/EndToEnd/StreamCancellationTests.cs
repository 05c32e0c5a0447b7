using OpenAI.Chat;

namespace Dynamo.AppHost.Tests.EndToEnd;

/// <summary>A client that goes away mid-stream frees the worker: the disconnect travels gateway → router → worker.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class StreamCancellationTests(GatewayClusterFixture cluster)
{
    private const string Running = "dynamo_worker_scheduler_running";
    private const string Steps = "dynamo_worker_scheduler_step_time_seconds_count";
    private const int MaxTokens = 1000;

    [Fact]
    public async Task StreamChat_ClientDisconnects_WorkerSequenceEndsLongBeforeMaxTokens()
    {
        var chat = cluster.Client.GetChatClient(GatewayClusterFixture.Model);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 0 };
        var stepsBefore = await cluster.WorkerMetricAsync(Steps, absentIsZero: true);
        var runningWhileStreaming = 0.0;
        var received = 0;

        using (var cts = new CancellationTokenSource())
        {
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Tell a very long story.")], options, cts.Token))
            {
                if (update.ContentUpdate.Count > 0 && ++received >= 3)
                {
                    // Tokens reach the client just after the step that made them; read until the gauge shows the request.
                    runningWhileStreaming = await cluster.WorkerMetricAsync(Running);
                    if (runningWhileStreaming == 0 && received < 200)
                    {
                        continue;
                    }

                    await cts.CancelAsync();
                    break;
                }
            }
        }

        Assert.InRange(received, 3, 200);
        Assert.True(runningWhileStreaming >= 1, "the worker ran no sequence while tokens were streaming");
        var running = await WaitForRunningAsync(0, TimeSpan.FromSeconds(90));
        Assert.Equal(0, running);
        var steps = await cluster.WorkerMetricAsync(Steps) - stepsBefore;
        Assert.True(steps < MaxTokens / 2, $"the worker ran {steps} steps: the request was not cancelled");
    }

    private async Task<double> WaitForRunningAsync(double expected, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        double running;
        do
        {
            running = await cluster.WorkerMetricAsync(Running);
            if (running == expected)
            {
                return running;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        return running;
    }
}
