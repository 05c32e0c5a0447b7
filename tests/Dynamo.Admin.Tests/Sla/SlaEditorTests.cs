using System.Globalization;
using System.Net;
using Dynamo.Admin.Tests.Infrastructure;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;

namespace Dynamo.Admin.Tests.Sla;

// One test at a time touches the stored SLA: it is one document per namespace.
[Collection(AdminClusterCollection.Name)]
public sealed class SlaEditorTests(AdminCluster cluster)
{
    [Fact]
    public async Task Save_ValidForm_StoresInRedisAndAnnouncesOnNats()
    {
        var announced = new TaskCompletionSource<SlaConfig>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await cluster.Events.SubscribeAsync(Subjects.SlaChanged(cluster.Namespace), (m, _) =>
        {
            announced.TrySetResult(ContractSerializer.Deserialize<SlaConfig>(m.Data.Span));
            return ValueTask.CompletedTask;
        });
        var (client, _) = await cluster.SignedInClientAsync();
        using (client)
        {
            var html = await PostAsync(client, ttft: 275.5, itl: 35, aggregated: (2, 6));

            Assert.Contains("data-testid=\"sla-saved\"", html, StringComparison.Ordinal);
            var stored = await cluster.Store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig);
            Assert.NotNull(stored);
            Assert.Equal(275.5, stored.TtftMs);
            Assert.Equal(35, stored.ItlMs);
            Assert.Equal(new PoolBounds(2, 6), stored.Pools["aggregated"]);
            Assert.Equal(AdminCluster.Username, stored.UpdatedBy);
            var message = await announced.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(275.5, message.TtftMs);
            Assert.Equal(new PoolBounds(2, 6), message.Pools["aggregated"]);

            var reread = await client.GetStringAsync("sla");
            Assert.Contains("value=\"275.5\"", reread, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0, 50, 1, 4, "error-ttftMs")]
    [InlineData(500, -1, 1, 4, "error-itlMs")]
    [InlineData(500, 50, 5, 2, "error-pools.aggregated")]
    [InlineData(500, 50, 1, 65, "error-pools.aggregated.maxReplicas")]
    public async Task Save_InvalidForm_ShowsFieldErrorAndStoresNothing(double ttft, double itl, int min, int max, string errorId)
    {
        var (client, _) = await cluster.SignedInClientAsync();
        using (client)
        {
            var before = await cluster.Store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig);

            var html = await PostAsync(client, ttft, itl, (min, max));

            Assert.Contains($"data-testid=\"{errorId}\"", html, StringComparison.Ordinal);
            Assert.DoesNotContain("data-testid=\"sla-saved\"", html, StringComparison.Ordinal);
            var after = await cluster.Store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig);
            Assert.Equal(before, after);
        }
    }

    [Fact]
    public async Task Save_WithoutAntiforgeryToken_IsRejected()
    {
        var (client, _) = await cluster.SignedInClientAsync();
        using (client)
        {
            using var response = await client.PostAsync("sla", new FormUrlEncodedContent(Fields(100, 10, (1, 2))));

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    private static async Task<string> PostAsync(HttpClient client, double ttft, double itl, (int Min, int Max) aggregated)
    {
        var fields = Fields(ttft, itl, aggregated);
        fields["__RequestVerificationToken"] = await AdminCluster.AntiforgeryTokenAsync(client, "sla");
        using var response = await client.PostAsync("sla", new FormUrlEncodedContent(fields));
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {html}");
        return html;
    }

    private static Dictionary<string, string> Fields(double ttft, double itl, (int Min, int Max) aggregated) => new()
    {
        ["_handler"] = "sla",
        ["Input.TtftMs"] = ttft.ToString(CultureInfo.InvariantCulture),
        ["Input.ItlMs"] = itl.ToString(CultureInfo.InvariantCulture),
        ["Input.WorkerBudget"] = "",
        ["Input.Aggregated.Min"] = aggregated.Min.ToString(CultureInfo.InvariantCulture),
        ["Input.Aggregated.Max"] = aggregated.Max.ToString(CultureInfo.InvariantCulture),
        ["Input.Prefill.Min"] = "1",
        ["Input.Prefill.Max"] = "4",
        ["Input.Decode.Min"] = "1",
        ["Input.Decode.Max"] = "4",
    };
}
