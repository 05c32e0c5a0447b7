using Dynamo.Runtime.Gguf;
using Dynamo.Worker.Models;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>RoPE scaling as real checkpoints carry it: linear (rope.scaling.*) and Llama-3's per-frequency rope_freqs.weight.</summary>
[Collection(EngineCollection.Name)]
public sealed class EngineRopeScalingTests(EngineModelsFixture models)
{
    [Fact]
    public void Step_Llama3RopeFreqs_MatchesReferenceAndChangesLogits()
    {
        // Factors grow with the pair index like Llama 3.1's low-frequency scaling.
        var factors = Enumerable.Range(0, 8).Select(i => 1f + i).ToArray();
        var path = Rewrite(models.LlamaF32, "rope-freqs", w => w.AddTensor("rope_freqs.weight", [8], GgmlType.F32, TensorEncoding.Encode(factors, GgmlType.F32)));
        var prompt = EngineSession.Prompt(40, salt: 9);
        using var scaled = new EngineSession(path);
        using var plain = new EngineSession(models.LlamaF32);

        var logits = scaled.Run(prompt, 0, [0, 1, 2]);

        EngineReferenceTests.AssertClose(new ReferenceModel(path).Logits(prompt), logits, 1e-4);
        Assert.NotEqual(plain.Run(prompt, 0, [0, 1, 2]), logits);
    }

    [Fact]
    public void Step_LinearRopeScaling_MatchesReference()
    {
        var path = Rewrite(models.LlamaF32, "rope-linear", w =>
        {
            w.Add("llama.rope.scaling.type", "linear");
            w.Add("llama.rope.scaling.factor", 4f);
        });
        var prompt = EngineSession.Prompt(40, salt: 10);
        using var session = new EngineSession(path);

        var logits = session.Run(prompt, 0, [0, 1, 2]);

        Assert.Equal(0.25f, session.Model.Info.RopeFreqScale);
        EngineReferenceTests.AssertClose(new ReferenceModel(path).Logits(prompt), logits, 1e-4);
    }

    [Fact]
    public void Load_YarnRopeScaling_ThrowsUnsupported()
    {
        var path = Rewrite(models.LlamaF32, "rope-yarn", w => w.Add("llama.rope.scaling.type", "yarn"));

        var ex = Assert.Throws<Dynamo.Worker.Engines.Native.NativeEngineException>(() => Dynamo.Worker.Engines.Native.NativeModel.Load(path));

        Assert.Contains("rope scaling type 'yarn' is not supported", ex.Message);
    }

    /// <summary>Copies a GGUF file's metadata and tensors, letting <paramref name="extend"/> add more.</summary>
    private string Rewrite(string source, string name, Action<GgufWriter> extend)
    {
        using var file = GgufReader.Open(source);
        var writer = new GgufWriter();
        foreach (var (key, value) in file.MetadataInFileOrder)
        {
            writer.Add(key, value);
        }

        foreach (var t in file.Tensors)
        {
            writer.AddTensor(t.Name, t.Dimensions, t.Type, file.ReadTensorData(t));
        }

        extend(writer);
        var path = Path.Combine(models.Directory, name + ".gguf");
        writer.WriteTo(path);
        return path;
    }
}
