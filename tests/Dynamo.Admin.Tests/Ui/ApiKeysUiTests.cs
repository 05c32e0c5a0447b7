using System.Net;
using System.Net.Http.Headers;
using Dynamo.Admin.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Dynamo.Admin.Tests.Ui;

[Collection(AdminClusterCollection.Name)]
public sealed class ApiKeysUiTests(AdminCluster cluster)
{
    [Fact]
    public async Task Keys_CreateThenRevoke_GatewayHonoursBoth()
    {
        await using var browser = await BrowserSession.StartAsync();
        await browser.SignInAsync(cluster);
        await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "models").ToString());
        var name = "ui-key-" + Guid.NewGuid().ToString("N")[..6];

        await browser.Page.GetByTestId("key-name").FillAsync(name);
        await browser.Page.GetByTestId("key-create").ClickAsync();

        var secret = (await browser.Page.GetByTestId("new-key").InnerTextAsync()).Trim();
        Assert.False(string.IsNullOrEmpty(secret));
        var row = browser.Page.Locator($"tr[data-key='{name}']");
        await Expect(row.GetByTestId("key-active")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("api-key-created");
        Assert.NotEqual(HttpStatusCode.Unauthorized, await GatewayStatusAsync(secret));

        // The secret is shown once: a fresh load of the page no longer has it.
        await browser.Page.GotoAsync(new Uri(cluster.AdminUrl, "models").ToString());
        await Expect(browser.Page.GetByTestId("new-key")).ToHaveCountAsync(0);

        await row.GetByTestId("key-revoke").ClickAsync();
        await Expect(browser.Page.Locator($"tr[data-key='{name}']").GetByTestId("key-revoked")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("api-key-revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, await GatewayStatusAsync(secret));
    }

    private async Task<HttpStatusCode> GatewayStatusAsync(string key)
    {
        using var http = new HttpClient { BaseAddress = cluster.GatewayUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
