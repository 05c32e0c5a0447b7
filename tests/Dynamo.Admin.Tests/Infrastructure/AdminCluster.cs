using System.Net;
using System.Text.RegularExpressions;
using Dynamo.Admin.Auth;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Admin.Tests.Infrastructure;

/// <summary>
/// Real nats-server and redis-server, a real Gateway process and the Admin app as a real process (as the AppHost runs
/// them), plus a runtime host of the test's own to publish on NATS and read Redis through the public planes. A worker
/// and a router join on demand (<see cref="StartServingAsync"/>).
/// </summary>
public sealed partial class AdminCluster : IAsyncLifetime
{
    public const string Username = "operator";
    public const string Password = "correct horse battery staple";
    public const string GatewayAdminKey = "test-gateway-admin-key-0123456789";

    private ChildServices? _children;
    private IHost? _runtime;

    public NatsServer Nats { get; private set; } = default!;

    public RedisServer Redis { get; private set; } = default!;

    /// <summary>Each fixture uses its own namespace, so collections never see each other's subjects or keys.</summary>
    public string Namespace { get; } = "admintest" + Guid.NewGuid().ToString("N")[..8];

    public Uri AdminUrl { get; private set; } = default!;

    public Uri GatewayUrl { get; private set; } = default!;

    public string LogDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "logs", DateTime.UtcNow.ToString("HHmmss-fff", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The test's own runtime services (worker registry, …).</summary>
    public IServiceProvider Runtime => _runtime!.Services;

    public IEventPlane Events => _runtime!.Services.GetRequiredService<IEventPlane>();

    public IStateStore Store => _runtime!.Services.GetRequiredService<IStateStore>();

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Directory.CreateDirectory(LogDirectory);
        Nats = await NatsServer.StartNewAsync(cts.Token);
        Redis = await RedisServer.StartNewAsync(cts.Token);

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:nats"] = Nats.Url,
            ["ConnectionStrings:redis"] = Redis.ConnectionString,
            ["Dynamo:Namespace"] = Namespace,
        });
        builder.AddDynamoRuntime();
        _runtime = builder.Build();
        await _runtime.StartAsync(cts.Token);
        await Events.WaitUntilConnectedAsync(cts.Token);

        _children = new ChildServices(LogDirectory);
        var gatewayPort = ChildServices.FreePort();
        GatewayUrl = new Uri($"http://127.0.0.1:{gatewayPort}/");
        _children.Start(ServiceDll("Dynamo.Gateway"), Environment(gatewayPort, new()
        {
            ["Gateway__AdminKey"] = GatewayAdminKey,
            ["Gateway__DevelopmentKey"] = GatewayApiKey,
        }), "gateway.log");

        var adminPort = ChildServices.FreePort();
        AdminUrl = new Uri($"http://127.0.0.1:{adminPort}/");
        _children.Start(ServiceDll("Dynamo.Admin"), Environment(adminPort, new()
        {
            ["Admin__Username"] = Username,
            ["Admin__PasswordHash"] = OperatorPassword.Hash(Password, iterations: 1000),
            ["Admin__GatewayAdminKey"] = GatewayAdminKey,
            ["services__gateway__http__0"] = GatewayUrl.ToString().TrimEnd('/'),
        }), "admin.log");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await _children.WaitHealthyAsync(http, new Uri(GatewayUrl, "health"), cts.Token);
        await _children.WaitHealthyAsync(http, new Uri(AdminUrl, "health"), cts.Token);
    }

    public async Task DisposeAsync()
    {
        if (_children is not null)
        {
            await _children.DisposeAsync();
        }

        if (_runtime is not null)
        {
            await _runtime.StopAsync();
            _runtime.Dispose();
        }

        await Nats.DisposeAsync();
        await Redis.DisposeAsync();
    }

    /// <summary>A client that keeps cookies and does not follow redirects, so tests see the 302s.</summary>
    public HttpClient CreateClient(CookieContainer? cookies = null) =>
        new(new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = AdminUrl,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>Signs in through the login form (antiforgery token included) and returns the sign-in response.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string username, string password)
    {
        var token = await AntiforgeryTokenAsync(client, "login");
        return await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["username"] = username,
            ["password"] = password,
            ["returnUrl"] = "/",
        }));
    }

    /// <summary>A signed-in client and its cookie jar.</summary>
    public async Task<(HttpClient Client, CookieContainer Cookies)> SignedInClientAsync()
    {
        var cookies = new CookieContainer();
        var client = CreateClient(cookies);
        using var response = await SignInAsync(client, Username, Password);
        if (response.StatusCode != HttpStatusCode.Found || response.Headers.Location?.ToString() != "/")
        {
            throw new InvalidOperationException($"Sign-in failed: {(int)response.StatusCode} → {response.Headers.Location}");
        }

        return (client, cookies);
    }

    public static async Task<string> AntiforgeryTokenAsync(HttpClient client, string page)
    {
        var html = await client.GetStringAsync(page);
        return TokenPattern().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException($"No antiforgery token on /{page}.");
    }

    /// <summary>
    /// Starts the real Planner on this cluster's planes (virtual connector, a decision every second); the caller disposes
    /// the returned children to stop it. Not part of the fixture: other tests publish decisions of their own.
    /// </summary>
    public async Task<ChildServices> StartPlannerAsync(CancellationToken cancellationToken)
    {
        var children = new ChildServices(LogDirectory);
        try
        {
            var port = ChildServices.FreePort();
            children.Start(ServiceDll("Dynamo.Planner"), Environment(port, new()
            {
                ["Planner__Connector"] = "virtual",
                ["Planner__IntervalSeconds"] = "1",
                ["Planner__VirtualAckTimeoutSeconds"] = "0.2",
            }), "planner.log");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await children.WaitHealthyAsync(http, new Uri($"http://127.0.0.1:{port}/health"), cancellationToken);
            return children;
        }
        catch
        {
            await children.DisposeAsync();
            throw;
        }
    }

    private Dictionary<string, string> Environment(int port, Dictionary<string, string> extra)
    {
        var env = new Dictionary<string, string>(extra)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["HTTP_PORTS"] = "",
            ["ConnectionStrings__nats"] = Nats.Url,
            ["ConnectionStrings__redis"] = Redis.ConnectionString,
            ["Dynamo__Namespace"] = Namespace,
        };
        return env;
    }

    public static string ServiceDll(string project)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(RepoPaths.Root, project, "bin", configuration, "net10.0", project + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is not built; build tests/Dynamo.Admin.Tests first.", dll);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}

[CollectionDefinition(Name)]
public sealed class AdminClusterCollection : ICollectionFixture<AdminCluster>
{
    public const string Name = "admin cluster";
}
