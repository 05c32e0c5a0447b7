using Dynamo.Worker.Engines.Native;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>
/// Layout independence: every row of a step is computed by the same kernels whatever block ids,
/// batch composition or chunking surround it, so these comparisons demand bitwise-equal logits.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class EnginePagingTests(EngineModelsFixture models)
{
    [Theory]
    [InlineData("q8")]
    [InlineData("f32")]
    public void Step_ShuffledBlockTable_EqualsContiguousTable(string type)
    {
        var path = type == "q8" ? models.LlamaQ8 : models.LlamaF32;
        var prompt = EngineSession.Prompt(50);
        using var session = new EngineSession(path);

        var contiguous = session.Run(prompt, 0, [0, 1, 2, 3]);
        var paged = session.Run(prompt, 0, [41, 7, 63, 19]);

        Assert.Equal(contiguous, paged);
    }

    [Theory]
    [InlineData("q8")]
    [InlineData("q8-odd")]
    public void Step_MixedPrefillAndDecodeBatch_EqualsOneAtATime(string model)
    {
        using var session = new EngineSession(model == "q8" ? models.LlamaQ8 : models.LlamaQ8OddShapes);
        var promptA = EngineSession.Prompt(21, salt: 1);
        var promptB = EngineSession.Prompt(33, salt: 2);
        var promptC = EngineSession.Prompt(5, salt: 3);
        int[] tableA = [0, 1], tableB = [2, 3, 4], tableC = [5];

        // One at a time: A and B prefilled, then one decode token each, C prefilled.
        session.Run(promptA, 0, tableA);
        session.Run(promptB, 0, tableB);
        var aloneA = session.Run([42], promptA.Length, tableA);
        var aloneB = session.Run([43], promptB.Length, tableB);
        var aloneC = session.Run(promptC, 0, tableC);

        // Batched: the same prefills, then A and B decode while C prefills, all in one step
        // (C without a logits row first, to check row ordering), into different blocks.
        int[] tableA2 = [10, 11], tableB2 = [12, 13, 14], tableC2 = [15];
        var prefill = new NativeBatch();
        prefill.Add(promptA, 0, tableA2, wantLogits: false);
        prefill.Add(promptB, 0, tableB2, wantLogits: false);
        session.Engine.Step(prefill, []);
        var mixed = new NativeBatch();
        mixed.Add([42], promptA.Length, tableA2, wantLogits: true);
        mixed.Add(promptC[..2], 0, tableC2, wantLogits: false);
        mixed.Add([43], promptB.Length, tableB2, wantLogits: true);
        var logits = new float[2 * session.Vocab];
        session.Engine.Step(mixed, logits);
        var rest = new NativeBatch();
        rest.Add(promptC[2..], 2, tableC2, wantLogits: true);
        var lastC = new float[session.Vocab];
        session.Engine.Step(rest, lastC);

        Assert.Equal(aloneA, logits[..session.Vocab]);
        Assert.Equal(aloneB, logits[session.Vocab..]);
        Assert.Equal(aloneC, lastC);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    public void Step_ChunkedPrefill_EqualsWholePrefill(int chunk)
    {
        using var session = new EngineSession(models.Qwen2F32);
        var prompt = EngineSession.Prompt(45, salt: 4);
        var whole = session.Run(prompt, 0, [0, 1, 2]);

        float[] chunked = [];
        for (var start = 0; start < prompt.Length; start += chunk)
        {
            var end = Math.Min(prompt.Length, start + chunk);
            chunked = session.Run(prompt[start..end], start, [3, 4, 5]);
        }

        Assert.Equal(whole, chunked);
    }

    [Fact]
    public void ImportBlock_ExportedBlocksIntoOtherIdsAndPool_GiveIdenticalLogits()
    {
        var prompt = EngineSession.Prompt(40, salt: 6);
        using var source = new EngineSession(models.LlamaQ8);
        using var target = new EngineSession(models.LlamaQ8, blocks: 32);
        source.Run(prompt, 0, [5, 6, 7]);
        var expected = source.Run([99], prompt.Length, [5, 6, 7]);

        var buffer = new byte[source.Pool.BlockBytes];
        int[] from = [5, 6, 7], to = [30, 2, 17];
        for (var i = 0; i < from.Length; i++)
        {
            source.Pool.ExportBlock(from[i], buffer);
            target.Pool.ImportBlock(to[i], buffer);
        }

        var actual = target.Run([99], prompt.Length, to);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void CopyBlock_SharedPartialBlock_ForksIndependently()
    {
        // Two sequences share a 20-token prefix: block 0 (full) is shared, the partial
        // block 1 is copied to block 2 before each sequence appends its own token.
        var prefix = EngineSession.Prompt(20, salt: 7);
        using var session = new EngineSession(models.LlamaF32);
        session.Run(prefix, 0, [0, 1]);
        session.Pool.CopyBlock(1, 2);

        var forkA = session.Run([500], prefix.Length, [0, 1]);
        var forkB = session.Run([600], prefix.Length, [0, 2]);

        using var fresh = new EngineSession(models.LlamaF32);
        Assert.Equal(fresh.Run([.. prefix, 500], 0, [0, 1]), forkA);
        Assert.Equal(fresh.Run([.. prefix, 600], 0, [3, 4]), forkB);
        Assert.NotEqual(forkA, forkB);
    }

    [Fact]
    public void Greedy_SamePrompt_IsDeterministicAcrossEnginesAndThreadCounts()
    {
        var prompt = EngineSession.Prompt(12, salt: 8);
        using var first = new EngineSession(models.LlamaQ8);
        using var second = new EngineSession(models.LlamaQ8, options: new NativeEngineOptions { Threads = 1 });

        var a = first.Greedy(prompt, 16, [0, 1]);
        var b = second.Greedy(prompt, 16, [9, 3]);

        Assert.Equal(a, b);
        Assert.True(a.Distinct().Count() > 1, "greedy output is a single repeated token; the comparison would prove little");
    }
}
