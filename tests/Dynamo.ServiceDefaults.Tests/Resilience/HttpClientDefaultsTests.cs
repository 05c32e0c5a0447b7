using System.Net;
using Dynamo.ServiceDefaults.Discovery;
using Dynamo.ServiceDefaults.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.ServiceDefaults.Tests.Resilience;

/// <summary>What every HttpClient of a service gets from AddServiceDefaults.</summary>
public sealed class HttpClientDefaultsTests
{
    private static IHost Build(Action<IServiceCollection> configure, Dictionary<string, string?>? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            EnvironmentName = "Production",
            ApplicationName = "defaults-test",
            DisableDefaults = true,
        });
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.AddServiceDefaults();
        builder.Services.AddSingleton<TimeProvider>(new ImmediateTimeProvider(TimeSpan.FromMinutes(1)));
        configure(builder.Services);
        return builder.Build();
    }

    private static HttpClient CreateClient(IHost host, string name) =>
        host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    [Fact]
    public async Task DefaultClient_RetryAfterReplicaFails_GoesToTheNextReplica()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable), ScriptedHandler.Status(HttpStatusCode.OK));
        using var host = Build(
            s => s.AddHttpClient("router").ConfigurePrimaryHttpMessageHandler(() => inner),
            new() { ["services:router:http:0"] = "http://127.0.0.1:5001", ["services:router:http:1"] = "http://127.0.0.2:5002" });

        using var response = await CreateClient(host, "router").GetAsync("http://router/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.2:5002"], inner.AttemptUris.Select(u => u!.Authority));
    }

    [Fact]
    public async Task NamedClient_OwnResilienceSettings_ReplaceTheDefaultHandler()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable));
        using var host = Build(s => s.AddHttpClient("planner")
            .AddStandardResilienceHandler(o => o.MaxRetryAttempts = 1)
            .ConfigurePrimaryHttpMessageHandler(() => inner));

        using var response = await CreateClient(host, "planner").GetAsync("http://planner.test/");

        Assert.Equal(2, inner.Attempts);
    }

    [Fact]
    public async Task NamedClient_RemoveAllResilienceHandlers_SingleAttempt()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable));
        using var host = Build(s => s.AddHttpClient("raw").RemoveAllResilienceHandlers().ConfigurePrimaryHttpMessageHandler(() => inner));

        using var response = await CreateClient(host, "raw").GetAsync("http://raw.test/");

        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public void HandlerChain_Defaults_ResilienceThenDiscoveryThenSocketsWithConfiguredConnectTimeout()
    {
        using var host = Build(_ => { }, new() { ["Resilience:Http:ConnectTimeout"] = "00:00:03" });

        var chain = new List<HttpMessageHandler>();
        for (HttpMessageHandler? h = host.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("any"); h is not null; h = (h as DelegatingHandler)?.InnerHandler)
        {
            chain.Add(h);
        }

        var names = chain.Select(h => h.GetType().Name).ToList();
        Assert.True(names.IndexOf("ResilienceHandler") < names.IndexOf(nameof(ServiceDiscoveryHandler)), string.Join(" > ", names));
        Assert.Single(chain, h => h.GetType().Name == "ResilienceHandler");
        var sockets = Assert.IsType<SocketsHttpHandler>(chain[^1]);
        Assert.Equal(TimeSpan.FromSeconds(3), sockets.ConnectTimeout);
    }
}
