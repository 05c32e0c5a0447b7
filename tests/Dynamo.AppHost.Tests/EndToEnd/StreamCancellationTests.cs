using OpenAI.Chat;

namespace Dynamo.AppHost.Tests.EndToEnd;

/// <summary>A client that goes away mid-stream frees the worker: the disconnect travels gateway → router → worker.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class StreamCancellationTests(GatewayClusterFixture cluster)
{
    private const string Running = "dynamo_worker_scheduler_running";
    private const string Steps = "dynamo_worker_scheduler_step_time_seconds_count";
    private const string RouterCancellations = "dynamo_frontend_model_cancellation_total";
    private const int MaxTokens = 1000;

    [Fact]
    public async Task StreamChat_ClientDisconnects_WorkerSequenceEndsLongBeforeMaxTokens()
    {
        var chat = cluster.Client.GetChatClient(GatewayClusterFixture.Model);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 0 };
        var stepsBefore = await cluster.WorkerMetricAsync(Steps, absentIsZero: true);
        var cancellationsBefore = await cluster.MetricAsync("router", RouterCancellations, absentIsZero: true);
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
        var running = await WaitForAsync(() => cluster.WorkerMetricAsync(Running), v => v == 0);
        Assert.Equal(0, running);
        var steps = await cluster.WorkerMetricAsync(Steps) - stepsBefore;
        Assert.True(steps < MaxTokens / 2, $"the worker ran {steps} steps: the request was not cancelled");
        var cancellations = await WaitForAsync(() => cluster.MetricAsync("router", RouterCancellations, absentIsZero: true), v => v > cancellationsBefore);
        Assert.Equal(cancellationsBefore + 1, cancellations);
    }

    /// <summary>Reads <paramref name="read"/> until <paramref name="done"/> holds or 90 s pass; returns the last value.</summary>
    private static async Task<double> WaitForAsync(Func<Task<double>> read, Func<double, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        double value;
        do
        {
            value = await read();
            if (done(value))
            {
                return value;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        return value;
    }
}
