using Dynamo.ServiceDefaults.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.ServiceDefaults.Tests.Discovery;

public sealed class ServiceDiscoveryHandlerTests
{
    [Fact]
    public async Task HttpClientFactoryClient_LogicalName_AlternatesBetweenRealReplicas()
    {
        await using var first = await StartReplicaAsync("first");
        await using var second = await StartReplicaAsync("second");
        await using var app = await TestApp.StartAsync(configuration: new Dictionary<string, string?>
        {
            ["services:worker:http:0"] = first.BaseAddress.ToString(),
            ["services:worker:http:1"] = second.BaseAddress.ToString(),
        });
        var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync("http://worker/whoami");
            answers.Add(await response.Content.ReadAsStringAsync());
            Assert.Equal(new Uri("http://worker/whoami"), response.RequestMessage!.RequestUri);
        }

        Assert.Equal(2, answers.Count(a => a == "first"));
        Assert.Equal(2, answers.Count(a => a == "second"));
        Assert.NotEqual(answers[0], answers[1]);
    }

    private static Task<TestApp> StartReplicaAsync(string name) =>
        TestApp.StartAsync(configureApp: a => a.MapGet("/whoami", () => Results.Text(name)), serviceDefaults: false);
}
