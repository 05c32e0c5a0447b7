using Dynamo.Admin.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Dynamo.Admin.Tests.Ui;

/// <summary>
/// Headless Debian chromium driven by Playwright (never a downloaded browser) at 1280×800, signed in through the real
/// login form; screenshots go to TestResults/screenshots under the test output.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    public const string ChromiumVariable = "DYNAMO_CHROMIUM";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private BrowserSession(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
    }

    public IPage Page { get; }

    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    public static async Task<BrowserSession> StartAsync()
    {
        var executable = Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } configured
            ? configured
            : new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
              ?? throw new InvalidOperationException($"No chromium found: apt-get install chromium (./dynamo does), or set {ChromiumVariable}.");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = executable,
            Headless = true,
            // Test machines run as root, where chromium refuses its sandbox.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        page.SetDefaultTimeout(30_000);
        return new BrowserSession(playwright, browser, page);
    }

    public async Task SignInAsync(AdminCluster cluster, string password = AdminCluster.Password)
    {
        await Page.GotoAsync(cluster.AdminUrl.ToString());
        await Page.WaitForURLAsync("**/login**");
        await Page.FillAsync("#username", AdminCluster.Username);
        await Page.FillAsync("#password", password);
        await Page.ClickAsync("[data-testid=sign-in]");
    }

    public Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        return Page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, name + ".png") });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
