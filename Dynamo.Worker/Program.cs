using Dynamo.Worker.Api;
using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Models;

if (GenerateModelCommand.IsInvocation(args))
{
    Environment.ExitCode = GenerateModelCommand.Run(args.AsSpan(1), Console.Out, Console.Error);
    return;
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWorkerServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGenerateApi();
app.MapDisaggregationApi();

app.Run();
