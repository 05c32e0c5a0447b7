using Dynamo.Worker.Hosting;
using Dynamo.Worker.Models;

if (GenerateModelCommand.IsInvocation(args))
{
    Environment.ExitCode = GenerateModelCommand.Run(args.AsSpan(1), Console.Out, Console.Error);
    return;
}

var builder = WebApplication.CreateBuilder(args);

builder.AddWorker();

var app = builder.Build();

app.MapWorker();

app.Run();
