using System.Globalization;
using Dynamo.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);
ServingTopology topology;
try
{
    topology = ServingTopology.Read(builder.Configuration);
}
catch (InvalidOperationException ex)
{
    // As every other invalid AppHost option: one line naming it, exit code 2.
    Console.Error.WriteLine($"Dynamo.AppHost: error: {ex.Message}");
    return ExitCodes.InvalidOptions;
}

var nats = builder.AddNats("nats");
var redis = builder.AddRedis("redis");

if (topology.Disaggregated)
{
    // A prefill pool and a decode pool: the router sends prompts to prefill-worker, which pushes their KV to decode-worker.
    builder.AddProject<Projects.Dynamo_Worker>("prefill-worker")
        .WithEnvironment("Worker__Role", "Prefill")
        .WithReference(nats).WithReference(redis)
        .WaitFor(nats).WaitFor(redis);
    builder.AddProject<Projects.Dynamo_Worker>("decode-worker")
        .WithEnvironment("Worker__Role", "Decode")
        .WithReference(nats).WithReference(redis)
        .WaitFor(nats).WaitFor(redis);
}
else
{
    builder.AddProject<Projects.Dynamo_Worker>("worker")
        .WithReference(nats).WithReference(redis)
        .WaitFor(nats).WaitFor(redis);
}

var router = builder.AddProject<Projects.Dynamo_Router>("router")
    .WithReference(nats).WithReference(redis)
    .WaitFor(redis)
    .WithReplicas(1);
if (topology.MaxLocalPrefillTokens is { } threshold)
{
    router.WithEnvironment("Router__Disaggregation__MaxLocalPrefillTokens", threshold.ToString(CultureInfo.InvariantCulture));
}

var gateway = builder.AddProject<Projects.Dynamo_Gateway>("gateway")
    .WithReference(nats).WithReference(redis).WithReference(router)
    .WaitFor(redis)
    .WithDevelopmentApiKey()
    .WithExternalHttpEndpoints();

var planner = builder.AddProject<Projects.Dynamo_Planner>("planner")
    .WithReference(nats).WithReference(redis)
    .WaitFor(nats).WaitFor(redis);
if (topology.Disaggregated)
{
    // The planner sizes the pools this topology runs (its default is the one aggregated pool, resource "worker").
    planner.WithEnvironment("Planner__Pools__0", "prefill").WithEnvironment("Planner__Pools__1", "decode");
}

builder.AddProject<Projects.Dynamo_Admin>("admin")
    .WithReference(nats).WithReference(redis)
    .WithReference(gateway).WithReference(planner)
    .WithDevelopmentAdminCredentials()
    .WithExternalHttpEndpoints();

await using var app = builder.Build();
return await app.RunAsync();
