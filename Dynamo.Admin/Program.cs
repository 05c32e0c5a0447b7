using Dynamo.Admin.Hosting;
using Dynamo.Runtime.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDynamoRuntime();
builder.AddAdminServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapAdmin();

app.Run();
