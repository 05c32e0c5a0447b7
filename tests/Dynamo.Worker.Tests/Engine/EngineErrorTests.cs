using System.Buffers.Binary;
using System.Text;
using Dynamo.Worker.Engines.Native;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>Bad files and bad batches come back as <see cref="NativeEngineException"/>; the process and the engine carry on.</summary>
[Collection(EngineCollection.Name)]
public sealed class EngineErrorTests(EngineModelsFixture models)
{
    [Fact]
    public void Load_MissingFile_ThrowsIoError()
    {
        var ex = Assert.Throws<NativeEngineException>(() => NativeModel.Load(Path.Combine(models.Directory, "absent.gguf")));

        Assert.Equal(NativeStatus.IoError, ex.Status);
        Assert.Contains("cannot open", ex.Message);
    }

    [Fact]
    public void Load_BadMagic_ThrowsFormatError()
    {
        var bytes = File.ReadAllBytes(models.LlamaF32);
        bytes[0] = (byte)'X';

        var ex = Assert.Throws<NativeEngineException>(() => NativeModel.Load(Write("bad-magic", bytes)));

        Assert.Equal(NativeStatus.FormatError, ex.Status);
        Assert.Contains("not a GGUF file", ex.Message);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(400_000)]
    [InlineData(-1000)]
    public void Load_TruncatedFile_ThrowsFormatError(int keep)
    {
        var bytes = File.ReadAllBytes(models.LlamaF32);
        var length = keep > 0 ? keep : bytes.Length + keep;

        var ex = Assert.Throws<NativeEngineException>(() => NativeModel.Load(Write($"truncated-{keep}", bytes[..length])));

        Assert.Equal(NativeStatus.FormatError, ex.Status);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Load_UnknownArchitecture_ThrowsUnsupported()
    {
        var bytes = File.ReadAllBytes(models.LlamaF32);
        var at = IndexOf(bytes, Encoding.UTF8.GetBytes("general.architecture")) + "general.architecture".Length;
        // Skip the value type (u32) and string length (u64) to reach the value "llama".
        Encoding.UTF8.GetBytes("mamba").CopyTo(bytes, at + 4 + 8);

        var ex = Assert.Throws<NativeEngineException>(() => NativeModel.Load(Write("mamba", bytes)));

        Assert.Equal(NativeStatus.Unsupported, ex.Status);
        Assert.Contains("architecture 'mamba' is not supported", ex.Message);
    }

    [Theory]
    [InlineData(99u, "unsupported type type#99")]
    [InlineData(26u, "has type I32, which this engine cannot compute with")]
    public void Load_UnsupportedTensorType_ThrowsUnsupported(uint type, string message)
    {
        var bytes = File.ReadAllBytes(models.LlamaF32);
        // Tensor info: name, n_dims (u32), 2 dims (u64 each), type (u32), offset (u64).
        var at = IndexOf(bytes, Encoding.UTF8.GetBytes("blk.0.attn_q.weight")) + "blk.0.attn_q.weight".Length + 4 + 16;
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), type);

        var ex = Assert.Throws<NativeEngineException>(() => NativeModel.Load(Write($"type-{type}", bytes)));

        Assert.Equal(NativeStatus.Unsupported, ex.Status);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Load_RandomlyCorruptedHeader_LoadsOrThrowsButNeverCrashes()
    {
        var original = File.ReadAllBytes(models.LlamaF32);
        var tensorInfos = IndexOf(original, Encoding.UTF8.GetBytes("token_embd.weight")) - 8;
        var random = new Random(1234);
        var outcomes = new Dictionary<NativeStatus, int>();
        for (var i = 0; i < 200; i++)
        {
            var bytes = (byte[])original.Clone();
            // Half the trials hit the header and leading metadata, half the tensor infos.
            var region = i % 2 == 0 ? (Start: 0, Length: 600) : (Start: tensorInfos, Length: 2500);
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                bytes[region.Start + random.Next(region.Length)] = (byte)random.Next(256);
            }

            var path = Write("fuzz", bytes);
            try
            {
                using var model = NativeModel.Load(path);
                outcomes[NativeStatus.Ok] = outcomes.GetValueOrDefault(NativeStatus.Ok) + 1;
            }
            catch (NativeEngineException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.NativeMessage));
                outcomes[ex.Status] = outcomes.GetValueOrDefault(ex.Status) + 1;
            }
        }

        Assert.True(outcomes.Keys.Count(s => s != NativeStatus.Ok) >= 2, string.Join(", ", outcomes));
    }

    [Fact]
    public void Step_BlockTableTooShort_ThrowsOutOfRangeAndEngineStillWorks()
    {
        using var session = new EngineSession(models.LlamaF32);
        var prompt = EngineSession.Prompt(20);

        var ex = Assert.Throws<NativeEngineException>(() => session.Run(prompt, 0, [0]));

        Assert.Equal(NativeStatus.OutOfRange, ex.Status);
        Assert.Contains("block table too short", ex.Message);
        Assert.Equal(new ReferenceModel(models.LlamaF32).Logits(prompt).Length, session.Run(prompt, 0, [0, 1]).Length);
    }

    [Fact]
    public void Step_PastMaxContext_ThrowsContextOverflow()
    {
        using var session = new EngineSession(models.LlamaF32, options: new NativeEngineOptions { MaxContext = 64, Threads = 1 });

        var ex = Assert.Throws<NativeEngineException>(() => session.Run(EngineSession.Prompt(10), 60, EngineSession.Identity(5)));

        Assert.Equal(NativeStatus.OutOfRange, ex.Status);
        Assert.Contains("context overflow", ex.Message);
    }

    [Fact]
    public void Step_MoreTokensThanMaxBatch_ThrowsOutOfRange()
    {
        using var session = new EngineSession(models.LlamaF32, options: new NativeEngineOptions { MaxBatchTokens = 8, Threads = 1 });

        var ex = Assert.Throws<NativeEngineException>(() => session.Run(EngineSession.Prompt(9), 0, [0]));

        Assert.Equal(NativeStatus.OutOfRange, ex.Status);
        Assert.Contains("max_batch_tokens", ex.Message);
    }

    [Theory]
    [InlineData(32000, 0, "outside the vocabulary")]
    [InlineData(-1, 0, "outside the vocabulary")]
    [InlineData(5, 64, "outside the pool")]
    public void Step_InvalidTokenOrBlock_ThrowsInvalidArgument(int token, int block, string message)
    {
        using var session = new EngineSession(models.LlamaF32);

        var ex = Assert.Throws<NativeEngineException>(() => session.Run([1, token], 0, [block]));

        Assert.Equal(NativeStatus.InvalidArgument, ex.Status);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Step_LogitsBufferTooSmall_ThrowsInvalidArgument()
    {
        using var session = new EngineSession(models.LlamaF32);
        var batch = new NativeBatch();
        batch.Add([1, 2, 3], 0, [0], wantLogits: true);

        var ex = Assert.Throws<NativeEngineException>(() => session.Engine.Step(batch, new float[100]));

        Assert.Equal(NativeStatus.InvalidArgument, ex.Status);
        Assert.Contains("logits buffer", ex.Message);
    }

    [Fact]
    public void BlockTransfer_WrongSizesOrIds_ThrowInvalidArgument()
    {
        using var session = new EngineSession(models.LlamaF32, blocks: 4);

        Assert.Equal(NativeStatus.InvalidArgument, Assert.Throws<NativeEngineException>(() => session.Pool.ExportBlock(0, new byte[10])).Status);
        Assert.Equal(NativeStatus.InvalidArgument, Assert.Throws<NativeEngineException>(() => session.Pool.ImportBlock(0, new byte[session.Pool.BlockBytes + 1])).Status);
        Assert.Equal(NativeStatus.InvalidArgument, Assert.Throws<NativeEngineException>(() => session.Pool.CopyBlock(0, 4)).Status);
        Assert.Equal(NativeStatus.InvalidArgument, Assert.Throws<NativeEngineException>(() => NativeKvPool.Create(session.Model, 0)).Status);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(models.Directory, name + ".gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        var at = haystack.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, "marker not found in the model file");
        return at;
    }
}
