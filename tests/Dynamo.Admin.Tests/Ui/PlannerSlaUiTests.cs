using Dynamo.Admin.Tests.Infrastructure;
using Dynamo.Runtime.Contracts;
using static Microsoft.Playwright.Assertions;

namespace Dynamo.Admin.Tests.Ui;

/// <summary>
/// SLA edit → the real Planner's next decision → Planner page: the operator changes the TTFT target, the planner
/// (running against the same NATS and Redis) re-reads it and its next decision, shown live, carries it.
/// </summary>
[Collection(AdminClusterCollection.Name)]
public sealed class PlannerSlaUiTests(AdminCluster cluster)
{
    [Fact]
    public async Task Sla_ChangeTtftTarget_NextPlannerDecisionShowsIt()
    {
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var planner = await cluster.StartPlannerAsync(startup.Token);
        await using var browser = await BrowserSession.StartAsync();
        await browser.SignInAsync(cluster);
        await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "sla").ToString());

        await browser.Page.GetByTestId("ttft").FillAsync("321");
        await browser.Page.GetByTestId("sla-save").ClickAsync();
        await Expect(browser.Page.GetByTestId("sla-saved")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("sla");
        var stored = await cluster.Store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig);
        Assert.Equal(321, stored?.TtftMs);

        await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "planner").ToString());
        await Expect(browser.Page.GetByTestId("live-status")).ToHaveTextAsync("live");

        await Expect(browser.Page.GetByTestId("planner-sla-ttft")).ToHaveTextAsync("321 ms", new() { Timeout = 30_000 });
        await Expect(browser.Page.GetByTestId("planner-reason")).Not.ToBeEmptyAsync();
        var latest = await cluster.Store.ReadLogAsync(PlannerDecision.Log, 1, DynamoJsonContext.Default.PlannerDecision);
        Assert.Equal(321, Assert.Single(latest).Sla.TtftMs);
        await browser.ScreenshotAsync("planner");
    }

    [Fact]
    public async Task Sla_InvalidTarget_ShowsFieldErrorInTheForm()
    {
        await using var browser = await BrowserSession.StartAsync();
        await browser.SignInAsync(cluster);
        await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "sla").ToString());

        await browser.Page.GetByTestId("itl").FillAsync("0");
        await browser.Page.GetByTestId("sla-save").ClickAsync();

        await Expect(browser.Page.GetByTestId("error-itlMs")).ToContainTextAsync("ITL target");
        await Expect(browser.Page.GetByTestId("sla-saved")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("sla-invalid");
    }
}
