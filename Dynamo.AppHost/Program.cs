using Dynamo.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

var nats = builder.AddNats("nats");
var redis = builder.AddRedis("redis");

var worker = builder.AddProject<Projects.Dynamo_Worker>("worker")
    .WithReference(nats).WithReference(redis)
    .WaitFor(nats).WaitFor(redis);

var router = builder.AddProject<Projects.Dynamo_Router>("router")
    .WithReference(nats).WithReference(redis)
    .WaitFor(redis)
    .WithReplicas(1);

var gateway = builder.AddProject<Projects.Dynamo_Gateway>("gateway")
    .WithReference(nats).WithReference(redis).WithReference(router)
    .WaitFor(redis)
    .WithDevelopmentApiKey()
    .WithExternalHttpEndpoints();

var planner = builder.AddProject<Projects.Dynamo_Planner>("planner")
    .WithReference(nats).WithReference(redis)
    .WaitFor(nats).WaitFor(redis);

builder.AddProject<Projects.Dynamo_Admin>("admin")
    .WithReference(nats).WithReference(redis)
    .WithReference(gateway).WithReference(planner)
    .WithDevelopmentAdminCredentials()
    .WithExternalHttpEndpoints();

await using var app = builder.Build();
return await app.RunAsync();
