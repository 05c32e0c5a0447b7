using Dynamo.AppHost.Orchestration;
using Dynamo.AppHost.Tests.Infrastructure;

namespace Dynamo.AppHost.Tests.Cluster;

/// <summary>Starts the real topology (Program.cs) once for the tests of the collection; stops it at the end.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    internal AppHostProcess AppHost { get; private set; } = null!;

    public EndpointsDocument Endpoints { get; private set; } = null!;

    public string ControlUrl => Endpoints.ControlUrl;

    public async Task InitializeAsync()
    {
        // The test build already built every project (they are project references of the AppHost).
        AppHost = AppHostProcess.Start("--no-build", "--grace-period", "5");
        Endpoints = await AppHost.WaitUntilAllRunningAsync();
    }

    public async Task DisposeAsync() => await AppHost.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Running cluster";
}
