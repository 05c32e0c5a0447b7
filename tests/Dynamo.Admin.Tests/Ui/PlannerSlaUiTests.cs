using Dynamo.Admin.Tests.Infrastructure;
using Dynamo.Runtime.Contracts;
using static Microsoft.Playwright.Assertions;

namespace Dynamo.Admin.Tests.Ui;

/// <summary>
/// SLA edit → planner decision → Planner page. The planner service is not in this branch yet, so the test plays it:
/// it reads the SLA the Admin app stored and publishes a decision made with it, as the planner does every interval.
/// </summary>
[Collection(AdminClusterCollection.Name)]
public sealed class PlannerSlaUiTests(AdminCluster cluster)
{
    [Fact]
    public async Task Sla_ChangeTtftTarget_NextPlannerDecisionShowsIt()
    {
        await using var browser = await BrowserSession.StartAsync();
        await browser.SignInAsync(cluster);
        await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "sla").ToString());

        await browser.Page.GetByTestId("ttft").FillAsync("321");
        await browser.Page.GetByTestId("sla-save").ClickAsync();
        await Expect(browser.Page.GetByTestId("sla-saved")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("sla");

        await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "planner").ToString());
        await Expect(browser.Page.GetByTestId("live-status")).ToHaveTextAsync("live");
        var stored = await cluster.Store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig);
        Assert.Equal(321, stored?.TtftMs);
        var decision = Synthetic.Decision(Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow, stored!, "TTFT p99 150 ms within the 321 ms target; holding");
        await Synthetic.PublishAsync(cluster.Events, cluster.Namespace, decision);

        await Expect(browser.Page.GetByTestId("planner-sla-ttft")).ToHaveTextAsync("321 ms");
        await Expect(browser.Page.GetByTestId("planner-reason")).ToContainTextAsync("321 ms target");
        await Expect(browser.Page.Locator($"tr[data-decision='{decision.Id}']")).ToBeVisibleAsync();
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
