using Dynamo.Admin.Tests.Infrastructure;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dynamo.Admin.Tests.Ui;

[Collection(AdminClusterCollection.Name)]
public sealed class OverviewUiTests(AdminCluster cluster)
{
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
    public async Task Overview_WhileLoadRuns_NumbersChangeAndBreachIsRed()
    {
        await using var browser = await BrowserSession.StartAsync();
        await browser.SignInAsync(cluster);
        await browser.Page.WaitForURLAsync(cluster.AdminUrl.ToString());
        await Expect(browser.Page.GetByTestId("live-status")).ToHaveTextAsync("live");
        var rps = browser.Page.GetByTestId("kpi-rps-value");
        var seen = new HashSet<string> { await rps.InnerTextAsync() };

        // A bounded load: 30 router snapshots at rising rates (one router, as a router publishes once a second),
        // stopping as soon as the page has shown three different rates.
        var routerId = "ui-router-" + Guid.NewGuid().ToString("N")[..6];
        var sla = await cluster.Store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig) ?? SlaConfig.Default;
        for (var i = 1; i <= 30 && seen.Count < 4; i++)
        {
            await Synthetic.PublishAsync(cluster.Events, cluster.Namespace,
                Synthetic.Frontend(routerId, DateTimeOffset.UtcNow, requestsPerSecond: 2.5 * i, ttftP99Ms: sla.TtftMs * 2, queued: i));
            await Task.Delay(400);
            seen.Add(await rps.InnerTextAsync());
        }

        Assert.True(seen.Count >= 3, $"The requests/s card showed only: {string.Join(", ", seen)}");
        Assert.All(seen.Skip(1), text => Assert.EndsWith("req/s", text, StringComparison.Ordinal));
        await Expect(browser.Page.GetByTestId("kpi-ttft")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("breach"));
        await Expect(browser.Page.GetByTestId("chart-ttft").Locator("polyline")).ToHaveCountAsync(2);
        await browser.ScreenshotAsync("overview");

        await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "routing").ToString());
        await Synthetic.PublishAsync(cluster.Events, cluster.Namespace, Synthetic.Frontend(routerId, DateTimeOffset.UtcNow, requestsPerSecond: 3));
        await Expect(browser.Page.GetByTestId("decisions").Locator("td", new() { HasText = "kv_aware" }).First).ToBeVisibleAsync();
        await browser.ScreenshotAsync("routing");
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
}
