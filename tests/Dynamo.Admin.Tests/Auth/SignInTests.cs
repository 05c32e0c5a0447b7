using System.Net;
using Dynamo.Admin.Tests.Infrastructure;

namespace Dynamo.Admin.Tests.Auth;

[Collection(AdminClusterCollection.Name)]
public sealed class SignInTests(AdminCluster cluster)
{
    [Theory]
    [InlineData("")]
    [InlineData("workers")]
    [InlineData("sla")]
    [InlineData("models")]
    public async Task Page_Unauthenticated_RedirectsToLogin(string page)
    {
        using var client = cluster.CreateClient();

        using var response = await client.GetAsync(page);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.StartsWith($"{cluster.AdminUrl}login", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HubNegotiate_Unauthenticated_Returns401()
    {
        using var client = cluster.CreateClient();

        using var response = await client.PostAsync("hubs/metrics/negotiate?negotiateVersion=1", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_WrongPassword_IsRefusedWithoutCookie()
    {
        var cookies = new CookieContainer();
        using var client = cluster.CreateClient(cookies);

        using var response = await AdminCluster.SignInAsync(client, AdminCluster.Username, "not the password");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Contains("failed=1", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(cookies.GetAllCookies(), c => c.Name == "dynamo-admin");
        using var page = await client.GetAsync("");
        Assert.Equal(HttpStatusCode.Found, page.StatusCode);
    }

    [Fact]
    public async Task SignIn_UnknownUser_IsRefused()
    {
        using var client = cluster.CreateClient();

        using var response = await AdminCluster.SignInAsync(client, "intruder", AdminCluster.Password);

        Assert.Contains("failed=1", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_IsRejected()
    {
        using var client = cluster.CreateClient();

        using var response = await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = AdminCluster.Username,
            ["password"] = AdminCluster.Password,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_RightPassword_OpensEveryPage()
    {
        var (client, _) = await cluster.SignedInClientAsync();
        using (client)
        {
            foreach (var page in new[] { "", "workers", "routing", "planner", "sla", "models" })
            {
                using var response = await client.GetAsync(page);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"/{page} answered {(int)response.StatusCode}");
                Assert.Contains(AdminCluster.Username, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task SignIn_ExternalReturnUrl_RedirectsHomeInstead()
    {
        using var client = cluster.CreateClient();
        var token = await AdminCluster.AntiforgeryTokenAsync(client, "login");

        using var response = await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["username"] = AdminCluster.Username,
            ["password"] = AdminCluster.Password,
            ["returnUrl"] = "//evil.example/phish",
        }));

        Assert.Equal("/", response.Headers.Location!.ToString());
    }
}
