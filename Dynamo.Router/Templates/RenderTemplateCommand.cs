using System.Text;
using System.Text.Json;
using Dynamo.Router.Templates.Jinja;

namespace Dynamo.Router.Templates;

/// <summary>
/// <c>render-template --template FILE.jinja --request REQUEST.json [--bos TOKEN] [--eos TOKEN]</c>: prints the prompt a
/// chat template renders for an OpenAI chat request, byte for byte, without a cluster, so users can debug templates.
/// </summary>
public static class RenderTemplateCommand
{
    public const int ExitOk = 0;
    public const int ExitError = 2;

    private const string Usage =
        "usage: render-template --template FILE.jinja --request REQUEST.json [--bos TOKEN] [--eos TOKEN]\n" +
        "  REQUEST.json is an OpenAI chat completions body: messages, tools, add_generation_prompt (default true),\n" +
        "  chat_template_kwargs. Use '-' to read the request from standard input.";

    public static int Run(string[] args)
    {
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };
        return Run(args, stdout, Console.Error, Console.In, TimeProvider.System);
    }

    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, TimeProvider timeProvider)
    {
        string? templatePath = null;
        string? requestPath = null;
        string? bos = null;
        string? eos = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--template" when value is not null: templatePath = value; i++; break;
                case "--request" when value is not null: requestPath = value; i++; break;
                case "--bos" when value is not null: bos = value; i++; break;
                case "--eos" when value is not null: eos = value; i++; break;
                case "-h" or "--help":
                    stdout.WriteLine(Usage);
                    return ExitOk;
                default:
                    return Fail(stderr, $"unexpected argument '{args[i]}'\n{Usage}");
            }
        }

        if (templatePath is null || requestPath is null)
        {
            return Fail(stderr, $"--template and --request are required\n{Usage}");
        }

        try
        {
            var template = ChatTemplate.Load(templatePath, bos, eos, timeProvider);
            var requestJson = requestPath == "-" ? stdin.ReadToEnd() : File.ReadAllText(requestPath);
            using var document = JsonDocument.Parse(requestJson);
            var request = ChatTemplateRequest.FromOpenAiRequest(document.RootElement);
            stdout.Write(template.Render(request));
            stdout.Flush();
            return ExitOk;
        }
        catch (TemplateException e)
        {
            return Fail(stderr, $"template error: {e.Message}");
        }
        catch (TemplateRenderException e)
        {
            var kind = e.RaisedByTemplate ? "template raised an exception" : "render error";
            var where = e.Line > 0 ? $" (template line {e.Line})" : "";
            return Fail(stderr, $"{kind}: {e.Message}{where}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or ArgumentException)
        {
            return Fail(stderr, $"error: {e.Message}");
        }
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine(message);
        return ExitError;
    }
}
