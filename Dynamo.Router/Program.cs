using Dynamo.Router.Hosting;
using Dynamo.Router.Templates;

if (args is ["render-template", ..])
{
    return RenderTemplateCommand.Run(args[1..]);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddRouter();

var app = builder.Build();

app.MapRouter();

app.Run();
return 0;
