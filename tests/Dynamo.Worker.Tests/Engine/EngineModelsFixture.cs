using System.Collections.Concurrent;
using Dynamo.Runtime.Gguf;
using Dynamo.Worker.Models;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>Generates the tiny test models once per test run into a temporary folder.</summary>
public sealed class EngineModelsFixture : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<string>> _models = new();

    public EngineModelsFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"dynamo-engine-tests-{Environment.ProcessId}");
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public string LlamaF32 => Get("llama-f32", LlamaModelConfig.Tiny, GgmlType.F32);

    public string LlamaQ8 => Get("llama-q8_0", LlamaModelConfig.Tiny, GgmlType.Q8_0);

    /// <summary>K/V projections of 24 rows (3 heads of 8): fused q/k/v products whose jobs end mid-way through a 16-row group.</summary>
    public string LlamaQ8OddShapes => Get("llama-q8_0-odd", LlamaModelConfig.Tiny with { EmbeddingLength = 96, HeadCount = 12, KvHeadCount = 3 }, GgmlType.Q8_0);

    public string LlamaQ4 => Get("llama-q4_0", LlamaModelConfig.Tiny with { TiedOutput = false }, GgmlType.Q4_0);

    public string LlamaF16Untied => Get("llama-f16-untied", LlamaModelConfig.Tiny with { TiedOutput = false }, GgmlType.F16);

    public string Qwen2F32 => Get("qwen2-f32", LlamaModelConfig.Tiny with { Architecture = "qwen2", RopeFreqBase = 1_000_000f, RmsEpsilon = 1e-6f }, GgmlType.F32);

    public string Get(string name, LlamaModelConfig config, GgmlType type, ulong seed = LlamaModelGenerator.DefaultSeed) =>
        _models.GetOrAdd(name, _ => new Lazy<string>(() =>
        {
            var path = Path.Combine(Directory, name + ".gguf");
            LlamaModelGenerator.Generate(config, type, seed, LlamaModelGenerator.DefaultVocabularyPath, path);
            return path;
        })).Value;

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still mapped by a finalizer-pending model; the OS temp cleaner removes it.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<EngineModelsFixture>
{
    public const string Name = "engine";
}
