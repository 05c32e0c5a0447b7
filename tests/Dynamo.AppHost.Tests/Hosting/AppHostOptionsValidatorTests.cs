using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Tests.Hosting;

public sealed class AppHostOptionsValidatorTests
{
    private readonly AppHostOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        Assert.True(_validator.Validate(null, new AppHostOptions()).Succeeded);
    }

    [Theory]
    [InlineData(0, "AppHost:GracePeriodSeconds must be between 1 and 300 (was 0).")]
    [InlineData(301, "AppHost:GracePeriodSeconds must be between 1 and 300 (was 301).")]
    public void Validate_GracePeriodOutOfRange_FailsNamingTheKey(int seconds, string expected)
    {
        var result = _validator.Validate(null, new AppHostOptions { GracePeriodSeconds = seconds });

        Assert.Equal([expected], result.Failures);
    }

    [Fact]
    public void Validate_SeveralBadValues_ReportsEach()
    {
        var result = _validator.Validate(null, new AppHostOptions { ControlPort = -1, HealthTimeoutSeconds = 0, OtlpEndpoint = "ftp://x" });

        Assert.Equal(3, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("AppHost:ControlPort", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("AppHost:HealthTimeoutSeconds", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("AppHost:OtlpEndpoint", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_HttpOtlpEndpoint_Succeeds()
    {
        Assert.True(_validator.Validate(null, new AppHostOptions { OtlpEndpoint = "http://localhost:4317" }).Succeeded);
    }
}
