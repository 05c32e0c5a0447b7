using System.ComponentModel.DataAnnotations;

namespace Dynamo.Runtime.EventPlane;

/// <summary>NATS connection settings (section <c>Dynamo:Nats</c>; the URL comes from <c>ConnectionStrings:nats</c>).</summary>
public sealed class NatsEventPlaneOptions
{
    public const string Section = "Dynamo:Nats";

    /// <summary>Broker URL(s), comma separated, e.g. <c>nats://127.0.0.1:4222</c>.</summary>
    [Required(ErrorMessage = "The NATS URL is missing: set ConnectionStrings:nats (e.g. nats://127.0.0.1:4222).")]
    public string? Url { get; set; }

    /// <summary>Client name shown by the server's monitoring.</summary>
    public string? ClientName { get; set; }

    /// <summary>Wait between connection attempts, both for the first connect and for reconnects.</summary>
    public TimeSpan ReconnectWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one connection attempt may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Ping period. NATS.Client 0.8 on .NET does not notice a server that went away (a 0-byte read is not
    /// treated as end of stream), so missed pings are what trigger its reconnect. Interval × <see cref="MaxPingsOut"/>
    /// bounds how long a dead server goes unnoticed; too tight and a busy host (the benchmark's publish burst on
    /// 2 loaded cores) is declared stale while healthy.
    /// </summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Unanswered pings after which the connection is considered stale and reconnected.</summary>
    [Range(1, 100)]
    public int MaxPingsOut { get; set; } = 3;

    /// <summary>Client-side pending limit per subscription (messages) before the client drops as a slow consumer.</summary>
    [Range(1, int.MaxValue)]
    public long PendingMessageLimit { get; set; } = 65_536;

    /// <summary>Client-side pending limit per subscription (bytes).</summary>
    [Range(1, long.MaxValue)]
    public long PendingBytesLimit { get; set; } = 64L * 1024 * 1024;
}
