using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dynamo.TestSupport;

/// <summary>A real <c>nats-server</c> on 127.0.0.1 for functional tests and benchmarks.</summary>
public sealed class NatsServer : ServerProcess
{
    private NatsServer()
        : base("nats-server", "apt-get install nats-server", "DYNAMO_NATS_SERVER")
    {
    }

    /// <summary>The client URL, as <c>ConnectionStrings:nats</c> would hold it.</summary>
    public string Url => $"nats://127.0.0.1:{Port}";

    protected override string LogPath => Path.Combine(DataDirectory, "nats.log");

    public static Task<NatsServer> StartNewAsync(CancellationToken cancellationToken = default) =>
        StartOwnedAsync(new NatsServer(), cancellationToken);

    protected override IEnumerable<string> Arguments() =>
        ["-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-l", LogPath];

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        // A ready server greets every connection with its INFO line.
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[4];
        var read = await client.GetStream().ReadAtLeastAsync(buffer, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return read == 4 && Encoding.ASCII.GetString(buffer) == "INFO";
    }
}
