using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dynamo.Router.Routing;

namespace Dynamo.Router.Tests.Disaggregation;

/// <summary>Completions with token-id prompts against a router, and the fields of its <c>x-dynamo-routing</c> header.</summary>
internal static class Completions
{
    public const string Greedy = "\"temperature\":0";

    public static string Body(int[] prompt, string settings, string? nvext = null, bool stream = false) =>
        $$"""{"model":"{{DisaggregatedCluster.Model}}","prompt":[{{string.Join(',', prompt)}}],{{settings}}{{(nvext is null ? "" : ",\"nvext\":" + nvext)}}{{(stream ? ",\"stream\":true" : "")}}}""";

    /// <summary>A non-streamed completion that must succeed; its routing header and text.</summary>
    public static async Task<(string Routing, string Text)> CompleteAsync(HttpClient http, int[] prompt, string settings, string? nvext = null, CancellationToken cancellationToken = default)
    {
        using var response = await http.PostAsync("/v1/completions", new StringContent(Body(prompt, settings, nvext), Encoding.UTF8, "application/json"), cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return (response.Headers.GetValues(RoutingDecision.HeaderName).Single(), json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString() ?? "");
    }

    public static Task<HttpResponseMessage> StartStreamAsync(HttpClient http, int[] prompt, string settings) =>
        http.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(Body(prompt, settings, stream: true), Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead);

    /// <summary>The text of one streamed chunk (<c>data: {...}</c>), failing the test on an error chunk; null for other lines.</summary>
    public static string? ChunkText(string line)
    {
        if (!line.StartsWith("data: {", StringComparison.Ordinal))
        {
            return null;
        }

        using var chunk = JsonDocument.Parse(line["data: ".Length..]);
        Assert.False(chunk.RootElement.TryGetProperty("error", out _), line);
        return chunk.RootElement.GetProperty("choices")[0].GetProperty("text").GetString() ?? "";
    }

    /// <summary>One field of the routing header (<c>worker</c>, <c>prefill</c>, <c>prefill_worker</c>, <c>prefill_reason</c>, ...).</summary>
    public static string Field(string routing, string name)
    {
        var match = Regex.Match(routing, $"(?:^|; ){Regex.Escape(name)}=(?<v>[^;]*)");
        Assert.True(match.Success, $"no {name} in '{routing}'");
        return match.Groups["v"].Value;
    }
}
