using System.Globalization;
using System.Text.RegularExpressions;
using Dynamo.Admin.Tests.Infrastructure;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dynamo.Admin.Tests.Ui;

[Collection(AdminClusterCollection.Name)]
public sealed partial class OverviewUiTests(AdminCluster cluster)
{
    private const string Idle = "0.0 req/s";

    [Fact]
    public async Task SignIn_WrongPassword_StaysOnLoginWithError()
    {
        await using var browser = await BrowserSession.StartAsync();

        await browser.SignInAsync(cluster, "wrong");

        await Expect(browser.Page.GetByTestId("login-error")).ToBeVisibleAsync();
        Assert.Contains("/login", browser.Page.Url, StringComparison.Ordinal);
        await browser.ScreenshotAsync("login-refused");
    }

    [Fact]
    public async Task Overview_WhileGatewayLoadRuns_RateAndTtftLeaveIdleAndBreachIsRed()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await using var serving = await cluster.StartServingAsync(cts.Token);
        await using var browser = await BrowserSession.StartAsync();
        await browser.SignInAsync(cluster);
        await browser.Page.WaitForURLAsync(cluster.AdminUrl.ToString());
        await Expect(browser.Page.GetByTestId("live-status")).ToHaveTextAsync("live");
        var rps = browser.Page.GetByTestId("kpi-rps-value");
        var ttft = browser.Page.GetByTestId("kpi-ttft-p99");

        // Idle first: metrics other tests published go stale, and the real router reports no requests while none run.
        await Expect(rps).ToHaveTextAsync(Idle, new() { Timeout = 60_000 });
        var idleTtft = await ttft.InnerTextAsync();
        await browser.ScreenshotAsync("overview-idle");

        // A 1 ms TTFT target: any real first token breaches it, so the card must turn red once traffic flows.
        var original = await cluster.Store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig);
        await SetSlaAsync((original ?? SlaConfig.Default) with { TtftMs = 1, UpdatedAt = DateTimeOffset.UtcNow, UpdatedBy = "overview UI test" });
        try
        {
            await using var load = GatewayLoad.Start(cluster.CreateGatewayClient());
            await Expect(rps).Not.ToHaveTextAsync(Idle, new() { Timeout = 60_000 });
            await Expect(ttft).Not.ToHaveTextAsync(idleTtft, new() { Timeout = 60_000 });
            await Expect(browser.Page.GetByTestId("kpi-ttft")).ToHaveClassAsync(new Regex("breach"), new() { Timeout = 30_000 });
            await Expect(browser.Page.GetByTestId("chart-ttft").Locator("polyline")).ToHaveCountAsync(2);
            var rate = RateText().Match(await rps.InnerTextAsync());
            Assert.True(rate.Success && double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture) > 0, await rps.InnerTextAsync());
            Assert.Matches(MsText(), await ttft.InnerTextAsync());
            await browser.ScreenshotAsync("overview");

            await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "routing").ToString());
            await Expect(browser.Page.GetByTestId("decisions").Locator("td", new() { HasText = cluster.ServingWorkerId }).First).ToBeVisibleAsync();
            await browser.ScreenshotAsync("routing");

            // Every other page at 1280×800 while real data streams, for the operator's-eye review of the artifacts.
            await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "workers").ToString());
            await Expect(browser.Page.Locator($"tr[data-worker='{cluster.ServingWorkerId}']")).ToContainTextAsync("seq");
            await browser.ScreenshotAsync("workers-live");
            foreach (var page in new[] { "planner", "sla", "models" })
            {
                await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, page).ToString());
                await browser.ScreenshotAsync(page + "-live");
            }

            await load.StopAsync();
            Assert.True(load.Completed > 0, "no request completed through the gateway");
            Assert.True(load.Failed == 0, $"{load.Failed} requests failed; first: {load.FirstFailure}");
        }
        finally
        {
            if (original is null)
            {
                await cluster.Store.DeleteAsync(SlaConfig.Collection, SlaConfig.DefaultId);
            }

            await SetSlaAsync(original ?? SlaConfig.Default, store: original is not null);
        }
    }

    [Fact]
    public async Task Workers_RegisteredWorkerReportingLoad_ShowsUsageAndActions()
    {
        var registry = cluster.Runtime.GetRequiredService<IWorkerRegistry>();
        var id = $"worker-3-{Guid.NewGuid().ToString("N")[..8]}";
        await registry.RegisterAsync(new WorkerRegistration(id, "tiny", WorkerRole.Aggregated, "mocker",
            new WorkerEndpoints("http://127.0.0.1:9"), 64, 16384, DateTimeOffset.UtcNow), TimeSpan.FromMinutes(2));
        try
        {
            await using var browser = await BrowserSession.StartAsync();
            await browser.SignInAsync(cluster);
            await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "workers").ToString());
            var row = browser.Page.Locator($"tr[data-worker='{id}']");
            for (var i = 0; i < 20; i++)
            {
                await cluster.Events.PublishAsync(Subjects.Metrics(cluster.Namespace, id), ContractSerializer.Serialize(
                    new WorkerLoadMetrics(id, DateTimeOffset.UtcNow, 8000, 16384, 512, 12, 0, 0.488,
                        [new KvTierUsage(KvTier.Device, 8000, 16384), new KvTierUsage(KvTier.Host, 100, 4096)])));
                if (await row.CountAsync() > 0 && (await row.InnerTextAsync()).Contains("48.8 %", StringComparison.Ordinal))
                {
                    break;
                }

                await Task.Delay(300);
            }

            await Expect(row).ToContainTextAsync("48.8 %");
            await Expect(row).ToContainTextAsync("12 seq");
            await Expect(row).ToContainTextAsync("Busy");
            await Expect(row.GetByTestId("drain")).ToBeVisibleAsync();
            await browser.ScreenshotAsync("workers");

            // No AppHost in this test: the action must say so instead of failing silently.
            await row.GetByTestId("restart").ClickAsync();
            await Expect(browser.Page.GetByTestId("worker-action-result")).ToContainTextAsync("AppHost");
        }
        finally
        {
            await registry.UnregisterAsync(id);
        }
    }

    /// <summary>Stores (unless told not to) and announces an SLA as the Admin's editor does, so the running Admin applies it at once.</summary>
    private async Task SetSlaAsync(SlaConfig sla, bool store = true)
    {
        if (store)
        {
            await cluster.Store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId, sla, DynamoJsonContext.Default.SlaConfig);
        }

        await cluster.Events.PublishAsync(Subjects.SlaChanged(cluster.Namespace), ContractSerializer.Serialize(sla));
    }

    [GeneratedRegex(@"^(\d+(?:\.\d)?) req/s$")]
    private static partial Regex RateText();

    [GeneratedRegex(@"^\d+(?:\.\d)? m?s$")]
    private static partial Regex MsText();
}
