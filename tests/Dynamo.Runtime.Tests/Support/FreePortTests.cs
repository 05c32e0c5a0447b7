using System.Net;
using System.Net.Sockets;
using Dynamo.TestSupport;

namespace Dynamo.Runtime.Tests.Support;

/// <summary>The port helper every bench and server fixture starts its children with.</summary>
public sealed class FreePortTests
{
    [Fact]
    public void FreePort_ManyCalls_DistinctBindableAndBelowTheEphemeralRange()
    {
        var floor = File.Exists("/proc/sys/net/ipv4/ip_local_port_range")
            ? int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0])
            : 32_768;

        var ports = Enumerable.Range(0, 200).Select(_ => ChildServices.FreePort()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 1024, floor - 1));
        using var listener = new TcpListener(IPAddress.Loopback, ports[^1]);
        listener.Start();
    }
}
