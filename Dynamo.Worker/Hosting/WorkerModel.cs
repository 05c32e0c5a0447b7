using Dynamo.Runtime.Tokenization;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Models;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Hosting;

/// <summary>
/// The model this worker serves with the native engine, memory-mapped once at start. With no
/// <see cref="WorkerOptions.ModelPath"/> the built-in default model is used, generated on first run (random
/// weights, a real vocabulary: no registry here ships pretrained weights), so a clean clone needs no download.
/// </summary>
public sealed partial class WorkerModel : IHostedService, IDisposable
{
    private readonly WorkerOptions _options;
    private readonly IHostEnvironment _environment;
    private readonly ILogger<WorkerModel> _logger;
    private NativeModel? _model;

    public WorkerModel(IOptions<WorkerOptions> options, IHostEnvironment environment, ILogger<WorkerModel> logger)
    {
        _options = options.Value;
        _environment = environment;
        _logger = logger;
    }

    /// <summary>The loaded model; throws before the host has started.</summary>
    public NativeModel Model => _model ?? throw new InvalidOperationException("The worker's model is not loaded yet.");

    public string? Path { get; private set; }

    /// <summary>The model's EOS, end-of-turn and end-of-message tokens (from its GGUF tokenizer metadata).</summary>
    public IReadOnlySet<int> EndOfGenerationIds { get; private set; } = new HashSet<int>();

    /// <summary>The model's tokenizer (for guided decoding's token table); null before start or without the native engine.</summary>
    public ITokenizer? Tokenizer { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Engine != "native")
        {
            return Task.CompletedTask;
        }

        var path = _options.ModelPath ?? EnsureDefault();
        if (!File.Exists(path))
        {
            throw new OptionsValidationException(nameof(WorkerOptions), typeof(WorkerOptions), [$"Worker:ModelPath '{path}' does not exist."]);
        }

        _model = NativeModel.Load(path);
        Path = path;
        Tokenizer = Dynamo.Runtime.Tokenization.Tokenizer.FromFile(path);
        EndOfGenerationIds = Tokenizer.EndOfGenerationIds;
        var info = _model.Info;
        LogLoaded(path, info.Architecture, info.ParameterCount, info.WeightType.ToString(), info.VocabSize, info.TrainedContextLength, NativeModel.KernelsName);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _model?.Dispose();

    private string EnsureDefault()
    {
        var directory = _options.ModelDirectory ?? DefaultModelDirectory(_environment.ContentRootPath);
        var path = LlamaModelGenerator.EnsureDefaultModel(directory);
        LogDefaultModel(path);
        return path;
    }

    /// <summary>
    /// <c>models/generated</c> at the repository root when the worker runs from a checkout (so every replica and
    /// test shares one generated file), else under the content root.
    /// </summary>
    internal static string DefaultModelDirectory(string contentRoot)
    {
        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Dynamo.Aspire.sln")))
            {
                return System.IO.Path.Combine(dir.FullName, "models", "generated");
            }
        }

        return System.IO.Path.Combine(contentRoot, "models", "generated");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Path}: {Architecture}, {Parameters} parameters, {WeightType}, vocabulary {Vocab}, context {Context}, kernels {Kernels}")]
    private partial void LogLoaded(string path, NativeArchitecture architecture, long parameters, string weightType, int vocab, int context, string kernels);

    [LoggerMessage(Level = LogLevel.Information, Message = "Using the built-in default model (random weights) at {Path}; set Worker:ModelPath to serve a real GGUF")]
    private partial void LogDefaultModel(string path);
}
