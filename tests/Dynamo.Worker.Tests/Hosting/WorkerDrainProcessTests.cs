using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Dynamo.Worker.Tests.Api;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Worker.Tests.Hosting;

/// <summary>SIGTERM against the real worker process (the build output of Dynamo.Worker), with real Redis and NATS.</summary>
public sealed class WorkerDrainProcessTests
{
    private const string WorkerId = "drain-process-worker";

    [Fact]
    public async Task Sigterm_DuringAStream_UnregistersRefusesNewWorkFinishesTheStreamAndExitsZero()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var nats = await NatsServer.StartNewAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var registryHost = RegistryHost(redis.ConnectionString);
        await registryHost.StartAsync(timeout.Token);
        var registry = registryHost.Services.GetRequiredService<IWorkerRegistry>();
        var port = ChildServices.FreePort();
        using var worker = StartWorker(port, redis.ConnectionString, nats.Url);
        using var watchdog = ProcessWatchdog.Watch(worker.Id);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(90) };
        await WaitUntilAsync(async () => (await registry.ListAsync(timeout.Token)).Workers.Any(w => w.WorkerId == WorkerId), worker, timeout.Token);

        // ~1,500 mocker decode steps of several ms each: the stream outlives everything checked during the drain.
        const int MaxTokens = 1500;
        using var response = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = Enumerable.Range(100, 40).ToArray(), max_tokens = MaxTokens }),
            HttpCompletionOption.ResponseHeadersRead,
            timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var first = await ReadEventAsync(reader, timeout.Token);
        Assert.NotNull(first);

        Signal(worker.Id, "TERM");
        await WaitUntilAsync(async () => (await registry.ListAsync(timeout.Token)).Workers.All(w => w.WorkerId != WorkerId), worker, timeout.Token);
        using var refused = await client.SendAsync(
            WorkerApp.Generate(new { token_ids = new[] { 1, 2, 3 }, max_tokens = 2 }),
            timeout.Token);
        var refusal = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(timeout.Token)).RootElement;
        var events = 1;
        JsonElement last = first.Value;
        while (await ReadEventAsync(reader, timeout.Token) is { } next)
        {
            events++;
            last = next;
        }

        await worker.WaitForExitAsync(timeout.Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Equal("draining", refusal.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(MaxTokens, events);
        Assert.Equal("length", last.GetProperty("finish_reason").GetString());
        Assert.Equal(0, worker.ExitCode);
    }

    internal static IHost RegistryHost(string redis)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis,
            ["ConnectionStrings:nats"] = "nats://127.0.0.1:1",
        });
        builder.AddDynamoRuntime();
        return builder.Build();
    }

    private static Process StartWorker(int port, string redis, string nats)
    {
        var dll = WorkerDll();
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["DOTNET_ENVIRONMENT"] = "Development";
        info.Environment["ConnectionStrings__redis"] = redis;
        info.Environment["ConnectionStrings__nats"] = nats;
        info.Environment["DYNAMO_INSTANCE_ID"] = WorkerId;
        info.Environment["Worker__Engine"] = "mocker";
        info.Environment["Worker__KvCapacityBlocks"] = "256";
        info.Environment["Worker__DrainTimeoutSeconds"] = "60";
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the worker process.");

        // Drained so a chatty log can never fill the pipe and stall the worker.
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The worker's own build output, in the configuration this test assembly was built in.</summary>
    internal static string WorkerDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var path = Path.Combine(RepoPaths.Root, "Dynamo.Worker", "bin", configuration, framework, "Dynamo.Worker.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build Dynamo.Worker first: {path} is missing.", path);
    }

    private static async Task<JsonElement?> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            Assert.False(line.StartsWith("event: error", StringComparison.Ordinal), line);
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
        }

        return null;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Process worker, CancellationToken cancellationToken)
    {
        while (!await condition())
        {
            Assert.False(worker.HasExited, $"the worker exited early with code {(worker.HasExited ? worker.ExitCode : 0)}");
            await Task.Delay(50, cancellationToken);
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
