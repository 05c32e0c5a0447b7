using Dynamo.Router.Templates;

if (args is ["render-template", ..])
{
    return RenderTemplateCommand.Run(args[1..]);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
return 0;
