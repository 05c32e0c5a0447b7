using Dynamo.Router.Hosting;
using Dynamo.Router.Templates;

if (args is ["render-template", ..])
{
    return RenderTemplateCommand.Run(args[1..]);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRouterServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapRouterApi();

app.Run();
return 0;
