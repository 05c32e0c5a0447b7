using System.Net.Sockets;
using System.Text;
using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Orchestration;

/// <summary>Polls a starting child until it is ready (HTTP /health, Redis PING, NATS INFO), it exits, or the timeout passes.</summary>
internal sealed class ReadinessProber(TimeProvider time) : IDisposable
{
    /// <summary>Short enough that start-up is not slowed noticeably, long enough not to load a 2-core machine.</summary>
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_attemptTimeout = TimeSpan.FromSeconds(2);

    // No proxy: an http_proxy in the environment must never see loopback probes.
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromSeconds(5) })
    {
        Timeout = s_attemptTimeout,
    };

    public enum Outcome
    {
        Ready,
        Exited,
        TimedOut,
    }

    public async Task<Outcome> WaitReadyAsync(ReadinessProbe probe, int port, Task exited, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (exited.IsCompleted)
            {
                return Outcome.Exited;
            }

            if (await ProbeOnceAsync(probe, port, cancellationToken).ConfigureAwait(false))
            {
                return Outcome.Ready;
            }

            if (time.GetUtcNow() >= deadline)
            {
                return Outcome.TimedOut;
            }

            await Task.WhenAny(exited, Task.Delay(s_pollInterval, time, cancellationToken)).ConfigureAwait(false);
        }
    }

    public async Task<bool> ProbeOnceAsync(ReadinessProbe probe, int port, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(s_attemptTimeout);
        try
        {
            return probe switch
            {
                ReadinessProbe.HttpHealth => await HttpHealthyAsync(port, attempt.Token).ConfigureAwait(false),
                ReadinessProbe.RedisPing => await ExchangeAsync(port, "PING\r\n"u8.ToArray(), "+PONG", attempt.Token).ConfigureAwait(false),
                ReadinessProbe.NatsInfo => await ExchangeAsync(port, [], "INFO ", attempt.Token).ConfigureAwait(false),
                _ => throw new ArgumentOutOfRangeException(nameof(probe), probe, "Unknown readiness probe."),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<bool> HttpHealthyAsync(int port, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri($"http://127.0.0.1:{port}/health"), cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    private static async Task<bool> ExchangeAsync(int port, byte[] request, string expectedPrefix, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        if (request.Length > 0)
        {
            await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var buffer = new byte[512];
        var read = 0;
        while (read < expectedPrefix.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return Encoding.ASCII.GetString(buffer, 0, read).StartsWith(expectedPrefix, StringComparison.Ordinal);
    }
}
