using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Tests.Hosting;

public sealed class AppHostCommandLineTests
{
    [Fact]
    public void Parse_FriendlySwitches_MapToAppHostSection()
    {
        var parsed = AppHostCommandLine.Parse(["--no-build", "--grace-period", "7", "--control-port", "18888", "-c", "Release"]);

        Assert.Null(parsed.Error);
        Assert.Equal("true", parsed.Settings["AppHost:NoBuild"]);
        Assert.Equal("7", parsed.Settings["AppHost:GracePeriodSeconds"]);
        Assert.Equal("18888", parsed.Settings["AppHost:ControlPort"]);
        Assert.Equal("Release", parsed.Settings["AppHost:Configuration"]);
    }

    [Fact]
    public void Parse_Publish_TakesDirectory()
    {
        var parsed = AppHostCommandLine.Parse(["--publish", "out/dir"]);

        Assert.Equal("out/dir", parsed.PublishDirectory);
    }

    [Fact]
    public void Parse_ConfigurationKeys_PassThrough()
    {
        var parsed = AppHostCommandLine.Parse(["--AppHost:HealthTimeoutSeconds=30", "--Logging:LogLevel:Default", "Debug"]);

        Assert.Null(parsed.Error);
        Assert.Equal(["--AppHost:HealthTimeoutSeconds=30", "--Logging:LogLevel:Default", "Debug"], parsed.ConfigurationArguments);
    }

    [Theory]
    [InlineData("--publish")]
    [InlineData("--grace-period")]
    public void Parse_SwitchWithoutValue_FailsNamingIt(string option)
    {
        var parsed = AppHostCommandLine.Parse([option]);

        Assert.Equal($"option {option} needs a value.", parsed.Error);
    }

    [Fact]
    public void Parse_UnknownOption_Fails()
    {
        var parsed = AppHostCommandLine.Parse(["--turbo"]);

        Assert.Contains("'--turbo'", parsed.Error, StringComparison.Ordinal);
    }
}
