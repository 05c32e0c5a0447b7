using System.Net.Http.Json;

namespace Dynamo.Admin.Tests.Infrastructure;

/// <summary>
/// A bounded load generator against the real gateway: a fixed number of clients each send streaming chat completions
/// back to back until <see cref="StopAsync"/> or until <paramref name="maxRequests"/> have been sent in all, whichever
/// comes first, so a test that forgets to stop it still ends.
/// </summary>
public sealed class GatewayLoad : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _clients;
    private readonly int _maxRequests;
    private int _sent;
    private int _completed;
    private int _failed;
    private string? _firstFailure;

    private GatewayLoad(HttpClient client, int concurrency, int maxRequests, int maxTokens)
    {
        _client = client;
        _maxRequests = maxRequests;
        _clients = [.. Enumerable.Range(0, concurrency).Select(i => Task.Run(() => RunClientAsync(i, maxTokens)))];
    }

    public int Completed => Volatile.Read(ref _completed);

    public int Failed => Volatile.Read(ref _failed);

    public string? FirstFailure => Volatile.Read(ref _firstFailure);

    public static GatewayLoad Start(HttpClient gateway, int concurrency = 4, int maxRequests = 2000, int maxTokens = 24)
        => new(gateway, concurrency, maxRequests, maxTokens);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunClientAsync(int client, int maxTokens)
    {
        var cancellationToken = _stop.Token;
        while (!cancellationToken.IsCancellationRequested && Interlocked.Increment(ref _sent) <= _maxRequests)
        {
            // Prompts differ per client and request, so the router sees a mix of cache hits (shared prefix) and misses.
            var body = new
            {
                model = AdminCluster.Model,
                messages = new[] { new { role = "user", content = $"Load client {client} says hello; request {Volatile.Read(ref _sent)}." } },
                max_tokens = maxTokens,
                stream = true,
            };
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(body) };
                using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode && text.Contains("data: [DONE]", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _completed);
                }
                else
                {
                    Fail($"{(int)response.StatusCode}: {text[..Math.Min(300, text.Length)]}");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                Fail(ex.Message);
            }
        }
    }

    private void Fail(string reason)
    {
        Interlocked.Increment(ref _failed);
        Interlocked.CompareExchange(ref _firstFailure, reason, null);
    }
}
