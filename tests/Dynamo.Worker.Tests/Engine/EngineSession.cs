using Dynamo.Worker.Engines.Native;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>Model + pool + engine for one test, with helpers that run single sequences.</summary>
internal sealed class EngineSession : IDisposable
{
    public EngineSession(string modelPath, int blocks = 64, int blockSize = 16, NativeKvType kvType = NativeKvType.F32, NativeEngineOptions? options = null)
    {
        Model = NativeModel.Load(modelPath);
        Pool = NativeKvPool.Create(Model, blocks, blockSize, kvType);
        Engine = NativeEngine.Create(Model, Pool, options ?? new NativeEngineOptions { MaxBatchTokens = 256, Threads = 2 });
    }

    public NativeModel Model { get; }

    public NativeKvPool Pool { get; }

    public NativeEngine Engine { get; }

    public int Vocab => Model.Info.VocabSize;

    /// <summary>Runs tokens of one sequence at startPosition and returns the last token's logits.</summary>
    public float[] Run(ReadOnlySpan<int> tokens, int startPosition, ReadOnlySpan<int> blockTable)
    {
        var batch = new NativeBatch();
        batch.Add(tokens, startPosition, blockTable, wantLogits: true);
        var logits = new float[Vocab];
        Engine.Step(batch, logits);
        return logits;
    }

    /// <summary>Greedy decoding from a prompt, one token per step.</summary>
    public int[] Greedy(int[] prompt, int count, int[] blockTable)
    {
        var logits = Run(prompt, 0, blockTable);
        var output = new int[count];
        for (var i = 0; i < count; i++)
        {
            output[i] = ArgMax(logits);
            if (i + 1 < count)
            {
                logits = Run([output[i]], prompt.Length + i, blockTable);
            }
        }

        return output;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    public static int[] Prompt(int length, int salt = 0) =>
        Enumerable.Range(0, length).Select(i => 1 + (((i * 7919) + (salt * 104729)) % 31990)).ToArray();

    public static int[] Identity(int blocks) => Enumerable.Range(0, blocks).ToArray();

    public void Dispose()
    {
        Engine.Dispose();
        Pool.Dispose();
        Model.Dispose();
    }
}
