using Dynamo.Router.Templates;
using Dynamo.Runtime.Hosting;

if (args is ["render-template", ..])
{
    return RenderTemplateCommand.Run(args[1..]);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDynamoRuntime();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
return 0;
