using System.Net;
using System.Net.Sockets;
using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Tests.Infrastructure;

namespace Dynamo.AppHost.Tests.Cluster;

/// <summary>Bad input ends the real AppHost process at start-up with one clear line and a non-zero exit code.</summary>
public sealed class StartupErrorTests
{
    private static readonly TimeSpan s_exitTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("--grace-period", "0", "AppHost:GracePeriodSeconds must be between 1 and 300")]
    [InlineData("--control-port", "70000", "AppHost:ControlPort must be between 0 and 65535")]
    [InlineData("--control-port", "abc", "AppHost:ControlPort")]
    [InlineData("--AppHost:OtlpEndpoint=not-a-url", null, "AppHost:OtlpEndpoint must be an absolute http(s) URL")]
    public async Task InvalidOptionValue_FailsNamingTheOption(string option, string? value, string expected)
    {
        await using var appHost = AppHostProcess.Start(value is null ? ["--no-build", option] : ["--no-build", option, value]);

        Assert.True(await appHost.WaitForExitAsync(s_exitTimeout));
        Assert.Equal(ExitCodes.InvalidOptions, appHost.ExitCode);
        Assert.Contains(expected, appHost.StandardError, StringComparison.Ordinal);
        Assert.Single(NonEmptyLines(appHost.StandardError));
    }

    [Fact]
    public async Task UnknownOption_FailsNamingIt()
    {
        await using var appHost = AppHostProcess.Start("--frobnicate");

        Assert.True(await appHost.WaitForExitAsync(s_exitTimeout));
        Assert.Equal(ExitCodes.InvalidOptions, appHost.ExitCode);
        Assert.Contains("'--frobnicate'", appHost.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingExecutable_OneLineSayingHowToInstall()
    {
        await using var appHost = AppHostProcess.Start("--no-build", "--AppHost:ExecutablePaths:nats=/nonexistent/nats-server");

        Assert.True(await appHost.WaitForExitAsync(s_exitTimeout));
        Assert.Equal(ExitCodes.MissingExecutable, appHost.ExitCode);
        var line = Assert.Single(NonEmptyLines(appHost.StandardError));
        Assert.Contains("nats-server", line, StringComparison.Ordinal);
        Assert.Contains("apt-get install nats-server", line, StringComparison.Ordinal);
        Assert.Null(appHost.ReadEndpoints());
    }

    [Fact]
    public async Task BusyControlPort_OneLineNamingThePort()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        await using var appHost = AppHostProcess.Start("--no-build", "--control-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(await appHost.WaitForExitAsync(s_exitTimeout));
        Assert.Equal(ExitCodes.PortInUse, appHost.ExitCode);
        var line = Assert.Single(NonEmptyLines(appHost.StandardError));
        Assert.Contains($"AppHost:ControlPort {port} is already in use", line, StringComparison.Ordinal);
    }

    private static string[] NonEmptyLines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
