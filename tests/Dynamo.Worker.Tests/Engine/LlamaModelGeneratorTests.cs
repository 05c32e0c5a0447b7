using Dynamo.Runtime.Gguf;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Models;

namespace Dynamo.Worker.Tests.Engine;

[Collection(EngineCollection.Name)]
public sealed class LlamaModelGeneratorTests(EngineModelsFixture models)
{
    [Fact]
    public void Generate_SameSeed_WritesIdenticalBytes()
    {
        var again = models.Get("llama-q8_0-again", LlamaModelConfig.Tiny, GgmlType.Q8_0);

        Assert.Equal(File.ReadAllBytes(models.LlamaQ8), File.ReadAllBytes(again));
    }

    [Fact]
    public void Generate_OtherSeed_WritesOtherWeights()
    {
        var other = models.Get("llama-q8_0-seed7", LlamaModelConfig.Tiny, GgmlType.Q8_0, seed: 7);

        Assert.NotEqual(
            ReadTensor(models.LlamaQ8, "blk.0.attn_q.weight"),
            ReadTensor(other, "blk.0.attn_q.weight"));
    }

    [Fact]
    public void Generate_Tiny_CarriesTheVocabularyAndTokenizerMetadata()
    {
        using var file = GgufReader.Open(models.LlamaF32);
        using var vocab = GgufReader.Open(LlamaModelGenerator.DefaultVocabularyPath);

        Assert.Equal(vocab.Get<string[]>("tokenizer.ggml.tokens"), file.Get<string[]>("tokenizer.ggml.tokens"));
        Assert.Equal(vocab.Get<float[]>("tokenizer.ggml.scores"), file.Get<float[]>("tokenizer.ggml.scores"));
        Assert.Equal(vocab.Get<int[]>("tokenizer.ggml.token_type"), file.Get<int[]>("tokenizer.ggml.token_type"));
        Assert.Equal("llama", file.Get<string>("tokenizer.ggml.model"));
        Assert.Equal(1u, file.Get<uint>("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2u, file.Get<uint>("tokenizer.ggml.eos_token_id"));
        Assert.Contains("add_generation_prompt", file.Get<string>("tokenizer.chat_template"));
        Assert.InRange(new FileInfo(models.LlamaF32).Length, 1 << 20, 16 << 20);
    }

    [Fact]
    public void EnsureDefaultModel_Missing_GeneratesOnceAndLoads()
    {
        var directory = Path.Combine(models.Directory, "generated");

        var path = LlamaModelGenerator.EnsureDefaultModel(directory);
        var written = File.GetLastWriteTimeUtc(path);
        var again = LlamaModelGenerator.EnsureDefaultModel(directory);

        Assert.Equal(path, again);
        Assert.Equal(written, File.GetLastWriteTimeUtc(again));
        Assert.Single(Directory.GetFiles(directory));
        using var model = NativeModel.Load(path);
        Assert.Equal(GgmlType.Q8_0, model.Info.WeightType);
        Assert.InRange(model.Info.ParameterCount, 20_000_000, 100_000_000);
        Assert.False(model.Info.TiedOutput);
    }

    [Fact]
    public void Run_GenerateModelCommand_WritesFileAndRejectsBadOptions()
    {
        var path = Path.Combine(models.Directory, "cli-tiny.gguf");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var ok = GenerateModelCommand.Run(["--preset", "tiny", "--out", path, "--type", "f16", "--seed", "3"], stdout, stderr);
        var bad = GenerateModelCommand.Run(["--preset", "huge", "--out", path], stdout, stderr);

        Assert.Equal(0, ok);
        Assert.Equal(GgmlType.F16, ReadTensorType(path, "blk.0.ffn_up.weight"));
        Assert.Equal(2, bad);
        Assert.Contains("Unknown model preset 'huge'", stderr.ToString());
    }

    private static byte[] ReadTensor(string path, string name)
    {
        using var file = GgufReader.Open(path);
        return file.ReadTensorBytes(name);
    }

    private static GgmlType ReadTensorType(string path, string name)
    {
        using var file = GgufReader.Open(path);
        return file.Tensor(name).Type;
    }
}
