using System.Net;
using Dynamo.Worker.Hosting;
using Microsoft.Extensions.Configuration;

namespace Dynamo.Worker.Tests.Hosting;

public sealed class WorkerRequestPlaneTests
{
    [Theory]
    [InlineData("http://localhost:5123", "https://worker-7.internal:443", "http://worker-7.internal:5999")]
    [InlineData("http://0.0.0.0:5123", "http://10.1.2.3:5123", "http://10.1.2.3:5999")]
    public void AdvertisedUrl_FixedPort_IsTheAdvertisedHostWithThePlanePortOverHttp(string urls, string advertised, string expected)
    {
        var plane = new WorkerRequestPlane(Configuration(urls, "5999"));

        Assert.Equal(5999, plane.Port);
        Assert.Equal(expected, plane.AdvertisedUrl(advertised));
    }

    [Fact]
    public void Port_Zero_IsAFreePortOfTheFirstUrlsAddressChosenOnce()
    {
        var plane = new WorkerRequestPlane(Configuration("http://127.0.0.1:5123;http://[::1]:5124", "0"));

        var port = plane.Port;

        Assert.NotNull(port);
        Assert.NotEqual(0, port);
        Assert.Equal(port, plane.Port);
        Assert.Equal(IPAddress.Loopback, plane.BindAddress);
    }

    [Fact]
    public void Port_MinusOne_TurnsTheListenerOffAndAdvertisesNothing()
    {
        var plane = new WorkerRequestPlane(Configuration("http://127.0.0.1:5123", "-1"));

        Assert.Null(plane.Port);
        Assert.Null(plane.AdvertisedUrl("http://127.0.0.1:5123"));
    }

    private static IConfiguration Configuration(string urls, string port) => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = urls, ["Worker:RequestPlanePort"] = port })
        .Build();
}
