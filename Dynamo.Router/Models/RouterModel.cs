using Dynamo.Router.Hosting;
using Dynamo.Router.Parsers;
using Dynamo.Router.Templates.Jinja;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Models;

/// <summary>
/// Loads the served model at start, before Kestrel accepts requests: the file named by <c>Router:ModelPath</c>, else
/// the built-in default model the workers generate under <c>models/generated</c> (waited for, since a worker may be
/// generating it right now). A missing file, a bad template or an unknown parser name stops start-up.
/// </summary>
public sealed partial class RouterModel(IOptions<RouterOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<RouterModel> logger)
    : IHostedService
{
    /// <summary>The default model's file name, as the worker's generator writes it.</summary>
    public const string DefaultModelFile = "dynamo-default-q8_0.gguf";

    private ServedModel? _model;

    /// <summary>The loaded model; throws before the host has started.</summary>
    public ServedModel Model => _model ?? throw new InvalidOperationException("The router's model is not loaded yet.");

    /// <summary>When the model was loaded (the <c>created</c> of <c>/v1/models</c>).</summary>
    public DateTimeOffset LoadedAt { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        try
        {
            OutputParsers.Validate(o.ToolCallParser, o.ReasoningParser);
        }
        catch (ArgumentException ex)
        {
            throw new OptionsValidationException(nameof(RouterOptions), typeof(RouterOptions), [ex.Message]);
        }

        var path = o.ModelPath;
        if (string.IsNullOrEmpty(path))
        {
            path = Path.Combine(o.ModelDirectory ?? DefaultModelDirectory(environment.ContentRootPath), DefaultModelFile);
            await WaitForFileAsync(path, TimeSpan.FromSeconds(o.ModelWaitSeconds), cancellationToken).ConfigureAwait(false);
        }
        else if (!File.Exists(path))
        {
            throw new OptionsValidationException(nameof(RouterOptions), typeof(RouterOptions), [$"Router:ModelPath '{path}' does not exist."]);
        }

        try
        {
            _model = ServedModel.Load(o.Model, path, o.ChatTemplatePath, time);
        }
        catch (TemplateException ex)
        {
            var source = string.IsNullOrEmpty(o.ChatTemplatePath) ? $"the tokenizer.chat_template of {path}" : o.ChatTemplatePath;
            throw new InvalidOperationException($"The chat template ({source}) cannot be used: {ex.Message}", ex);
        }

        LoadedAt = time.GetUtcNow();
        LogLoaded(o.Model, path, _model.Tokenizer.VocabSize, _model.ContextLength);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary><c>models/generated</c> at the repository root when run from a checkout, else under the content root (as the worker).</summary>
    internal static string DefaultModelDirectory(string contentRoot)
    {
        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dynamo.Aspire.sln")))
            {
                return Path.Combine(dir.FullName, "models", "generated");
            }
        }

        return Path.Combine(contentRoot, "models", "generated");
    }

    private async Task WaitForFileAsync(string path, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (File.Exists(path))
        {
            return;
        }

        LogWaiting(path, (int)limit.TotalSeconds);
        var deadline = time.GetUtcNow() + limit;
        while (!File.Exists(path))
        {
            if (time.GetUtcNow() >= deadline)
            {
                throw new OptionsValidationException(nameof(RouterOptions), typeof(RouterOptions),
                    [$"The default model {path} did not appear within {limit.TotalSeconds:0} s. Start a worker (it generates the file) or set Router:ModelPath."]);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Model} from {Path}: vocabulary {Vocab}, context {Context}")]
    private partial void LogLoaded(string model, string path, int vocab, int context);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting up to {Seconds} s for the default model {Path}: a worker generates it on first run")]
    private partial void LogWaiting(string path, int seconds);
}
