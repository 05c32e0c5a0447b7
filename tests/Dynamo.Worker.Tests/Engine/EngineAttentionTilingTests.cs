using Dynamo.Runtime.Gguf;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Models;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>
/// Prefill attention runs tiles of several tokens times the query heads of one K/V head (paired rows,
/// a lone row when the count is odd, head chunks past 16 heads, units of at most 16 cache slots that
/// restart at every block), while a decode step runs one token's heads. Each (token, head) must still
/// come out bit for bit the same, so a whole prefill must equal feeding the prompt one token at a time,
/// on head shapes the tiny model never reaches: group 1 and 4, an odd group, head sizes the AVX2 kernel
/// takes 1 to 3 vectors at a time, one it leaves to the scalar kernel, and block sizes below, at and
/// across the 16-slot unit. The models have two layers, so every prompt token's first-layer attention
/// reaches the last token's logits through the second layer's K/V.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class EngineAttentionTilingTests(EngineModelsFixture models)
{
    private const int PromptLength = 45;

    public static TheoryData<string, int, int, int> Shapes => new()
    {
        { "group1-hd16", 64, 4, 4 },
        { "group4-hd16", 128, 8, 2 },
        { "group3-hd32", 96, 3, 1 },
        { "group2-hd24", 96, 4, 2 },
        { "group1-hd12", 96, 8, 8 },
        { "group32-hd2", 64, 32, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Prefill_WholePrompt_EqualsOneTokenAtATime(string name, int embedding, int heads, int kvHeads)
    {
        var path = Model(name, embedding, heads, kvHeads);
        foreach (var blockSize in new[] { 16, 8, 24 })
        {
            AssertWholeEqualsIncremental(path, blockSize, NativeKvType.F32);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Prefill_F16Cache_WholePromptEqualsOneTokenAtATime(string name, int embedding, int heads, int kvHeads)
    {
        AssertWholeEqualsIncremental(Model(name, embedding, heads, kvHeads), 16, NativeKvType.F16);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Prefill_ScalarKernels_WholePromptEqualsOneTokenAtATime(string name, int embedding, int heads, int kvHeads)
    {
        var path = Model(name, embedding, heads, kvHeads);
        NativeModel.ForceScalarKernels(true);
        try
        {
            AssertWholeEqualsIncremental(path, 24, NativeKvType.F32);
        }
        finally
        {
            NativeModel.ForceScalarKernels(false);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Prefill_Shape_MatchesReferenceForward(string name, int embedding, int heads, int kvHeads)
    {
        var path = Model(name, embedding, heads, kvHeads);
        var prompt = EngineSession.Prompt(PromptLength, salt: 11);
        using var session = new EngineSession(path, blockSize: 8);

        var logits = session.Run(prompt, 0, EngineSession.Identity(6));

        EngineReferenceTests.AssertClose(new ReferenceModel(path).Logits(prompt), logits, 1e-4);
    }

    private static void AssertWholeEqualsIncremental(string path, int blockSize, NativeKvType kvType)
    {
        var prompt = EngineSession.Prompt(PromptLength, salt: 10);
        var blocks = (PromptLength + blockSize - 1) / blockSize;
        using var session = new EngineSession(path, blockSize: blockSize, kvType: kvType);
        var whole = session.Run(prompt, 0, EngineSession.Identity(blocks));

        var table = Enumerable.Range(blocks, blocks).Reverse().ToArray();
        float[] incremental = [];
        for (var i = 0; i < prompt.Length; i++)
        {
            incremental = session.Run(prompt[i..(i + 1)], i, table);
        }

        Assert.True(whole.AsSpan().SequenceEqual(incremental),
            $"block size {blockSize}, {kvType} cache ({NativeModel.KernelsName}): whole-prompt logits differ from one token at a time");
        Assert.Contains(whole, v => v != 0f);
    }

    private string Model(string name, int embedding, int heads, int kvHeads) =>
        models.Get("attn-" + name, LlamaModelConfig.Tiny with
        {
            EmbeddingLength = embedding,
            HeadCount = heads,
            KvHeadCount = kvHeads,
        }, GgmlType.F32);
}
