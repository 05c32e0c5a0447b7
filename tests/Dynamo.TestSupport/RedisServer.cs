using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dynamo.TestSupport;

/// <summary>A real <c>redis-server</c> on 127.0.0.1 (no persistence) for functional tests and benchmarks.</summary>
public sealed class RedisServer : ServerProcess
{
    private RedisServer()
        : base("redis-server", "apt-get install redis-server", "DYNAMO_REDIS_SERVER")
    {
    }

    /// <summary>The connection string, as <c>ConnectionStrings:redis</c> would hold it.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    protected override string LogPath => Path.Combine(DataDirectory, "redis.log");

    public static Task<RedisServer> StartNewAsync(CancellationToken cancellationToken = default) =>
        StartOwnedAsync(new RedisServer(), cancellationToken);

    protected override IEnumerable<string> Arguments() =>
    [
        "--port", Port.ToString(CultureInfo.InvariantCulture),
        "--bind", "127.0.0.1",
        "--dir", DataDirectory,
        "--logfile", LogPath,
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
    ];

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        var buffer = new byte[7];
        var read = await stream.ReadAtLeastAsync(buffer, 7, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return read == 7 && Encoding.ASCII.GetString(buffer) == "+PONG\r\n";
    }
}
