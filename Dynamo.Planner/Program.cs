using Dynamo.Planner.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlannerServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
