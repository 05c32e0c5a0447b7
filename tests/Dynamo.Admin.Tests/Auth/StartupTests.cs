using System.Diagnostics;
using Dynamo.Admin.Tests.Infrastructure;
using Dynamo.TestSupport;

namespace Dynamo.Admin.Tests.Auth;

public sealed class StartupTests
{
    [Fact]
    public async Task Start_ProductionWithoutCredentials_RefusesWithReason()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(AdminCluster.ServiceDll("Dynamo.Admin"));
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ChildServices.FreePort()}";
        info.Environment["HTTP_PORTS"] = "";
        // Unreachable brokers are fine: the runtime starts degraded; only the missing sign-in must stop it.
        info.Environment["ConnectionStrings__nats"] = $"nats://127.0.0.1:{ChildServices.FreePort()}";
        info.Environment["ConnectionStrings__redis"] = $"127.0.0.1:{ChildServices.FreePort()}";
        info.Environment.Remove("Admin__Username");
        info.Environment.Remove("Admin__Password");
        info.Environment.Remove("Admin__PasswordHash");

        using var process = Process.Start(info)!;
        using var watchdog = ProcessWatchdog.Watch(process.Id);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("The Admin app kept running in Production without operator credentials.");
        }

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("Admin:Username", await output + await errors, StringComparison.Ordinal);
    }
}
