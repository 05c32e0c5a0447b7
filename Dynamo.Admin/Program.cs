using Dynamo.Runtime.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDynamoRuntime();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
