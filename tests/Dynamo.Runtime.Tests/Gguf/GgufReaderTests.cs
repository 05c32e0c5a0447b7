using Dynamo.Runtime.Gguf;
using Dynamo.Runtime.Tests.Tokenization;

namespace Dynamo.Runtime.Tests.Gguf;

public sealed class GgufReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("llama-spm", "llama", 32000)]
    [InlineData("gpt-2", "gpt2", 50257)]
    [InlineData("llama-bpe", "gpt2", 128256)]
    [InlineData("qwen2", "gpt2", 151936)]
    public void Open_FixtureVocabulary_ReadsTokenizerMetadata(string name, string model, int tokens)
    {
        using var gguf = GgufReader.Open(TokenizerFixtures.VocabPath(name));

        Assert.Equal(3u, gguf.Version);
        Assert.Equal(model, gguf.GetString("tokenizer.ggml.model"));
        Assert.Equal(tokens, gguf.GetStringArray("tokenizer.ggml.tokens").Count);
        Assert.Equal(tokens, gguf.GetArray<int>("tokenizer.ggml.token_type").Length);
        Assert.True(gguf.TryGetUInt32("tokenizer.ggml.bos_token_id", out _));
        Assert.Empty(gguf.Tensors);
    }

    [Fact]
    public void Open_SpmFixture_ReadsScoresAndStringsExactly()
    {
        using var gguf = GgufReader.Open(TokenizerFixtures.VocabPath("llama-spm"));

        var tokens = gguf.GetStringArray("tokenizer.ggml.tokens");
        Assert.Equal("<unk>", tokens[0]);
        Assert.Equal("<0x0A>", tokens[13]);
        Assert.Equal("▁Hello", tokens[15043]);
        Assert.Equal(32000, gguf.GetArray<float>("tokenizer.ggml.scores").Length);
    }

    [Fact]
    public void Read_AllValueTypesAndNestedArrays_RoundTrip()
    {
        var bytes = new GgufTestFileBuilder()
            .Add("u8", GgufValueType.UInt8, w => w.Write((byte)200))
            .Add("i8", GgufValueType.Int8, w => w.Write((sbyte)-5))
            .Add("u16", GgufValueType.UInt16, w => w.Write((ushort)60000))
            .Add("i16", GgufValueType.Int16, w => w.Write((short)-300))
            .AddUInt32("u32", 4_000_000_000)
            .Add("i32", GgufValueType.Int32, w => w.Write(-7))
            .Add("f32", GgufValueType.Float32, w => w.Write(1.5f))
            .Add("bool", GgufValueType.Bool, w => w.Write((byte)1))
            .AddString("str", "héllo ✅")
            .Add("u64", GgufValueType.UInt64, w => w.Write(ulong.MaxValue))
            .Add("i64", GgufValueType.Int64, w => w.Write(long.MinValue))
            .Add("f64", GgufValueType.Float64, w => w.Write(2.25))
            .Add("nested", GgufValueType.Array, w =>
            {
                w.Write((uint)GgufValueType.Array);
                w.Write(2UL);
                for (var i = 0; i < 2; i++)
                {
                    w.Write((uint)GgufValueType.Int32);
                    w.Write(2UL);
                    w.Write(i * 10);
                    w.Write(i * 10 + 1);
                }
            })
            .AddStringArray("strs", "a", "", "ü")
            .Build();

        using var gguf = GgufReader.Read(new MemoryStream(bytes));

        Assert.Equal((byte)200, gguf.GetValue("u8").Value);
        Assert.Equal(-5, gguf.GetInt32("i8"));
        Assert.Equal(60000u, gguf.GetUInt32("u16"));
        Assert.Equal(-300L, gguf.GetInt64("i16"));
        Assert.Equal(4_000_000_000u, gguf.GetUInt32("u32"));
        Assert.Equal(-7, gguf.GetInt32("i32"));
        Assert.Equal(1.5f, gguf.GetSingle("f32"));
        Assert.True(gguf.GetBool("bool"));
        Assert.Equal("héllo ✅", gguf.GetString("str"));
        Assert.Equal(ulong.MaxValue, gguf.GetUInt64("u64"));
        Assert.Equal(long.MinValue, gguf.GetInt64("i64"));
        Assert.Equal(2.25, gguf.GetValue("f64").AsDouble());
        var nested = gguf.GetArray<GgufMetadataValue>("nested");
        Assert.Equal([10, 11], nested[1].AsArray<int>());
        Assert.Equal(["a", "", "ü"], gguf.GetArray<string>("strs"));
        Assert.Equal(14, gguf.MetadataInFileOrder.Count);
    }

    [Fact]
    public void GetUInt32_ValueDoesNotFit_ThrowsNamingKey()
    {
        using var gguf = GgufReader.Read(new MemoryStream(new GgufTestFileBuilder()
            .Add("big", GgufValueType.UInt64, w => w.Write(1UL << 40)).Build()));

        var e = Assert.Throws<InvalidDataException>(() => gguf.GetUInt32("big"));
        Assert.Contains("'big'", e.Message);
        Assert.Throws<KeyNotFoundException>(() => gguf.GetString("missing"));
        Assert.False(gguf.TryGetString("missing", out _));
    }

    [Fact]
    public void Open_TensorsWithCustomAlignment_LocatesDataSection()
    {
        var data = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var bytes = new GgufTestFileBuilder { Alignment = 64 }
            .AddUInt32("general.alignment", 64)
            .AddTensor("a", GgmlType.F32, [2, 2], data)
            .AddTensor("b", GgmlType.F16, [8], data.Reverse().ToArray())
            .Build();
        var path = Write("tensors.gguf", bytes);

        using var gguf = GgufReader.Open(path);

        Assert.Equal(64, gguf.Alignment);
        Assert.Equal(0, gguf.DataOffset % 64);
        Assert.True(gguf.TryGetTensor("b", out var b));
        Assert.Equal([8L], b.Dimensions);
        Assert.Equal(64UL, b.Offset);
        Assert.Equal(data.Reverse(), gguf.ReadTensorData(b));
        Assert.Equal(data, gguf.ReadTensorData(gguf.Tensors[0]));
    }

    [Fact]
    public void Open_BadMagic_ThrowsNotGguf()
    {
        var bytes = File.ReadAllBytes(TokenizerFixtures.VocabPath("gpt-2"));
        bytes[0] = (byte)'X';

        var e = Assert.Throws<InvalidDataException>(() => GgufReader.Open(Write("magic.gguf", bytes)));
        Assert.Contains("Not a GGUF file", e.Message);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(4u)]
    [InlineData(0x03000000u)]
    public void Read_UnsupportedVersion_Throws(uint version)
    {
        var bytes = new GgufTestFileBuilder { Version = version }.AddString("k", "v").Build();

        var e = Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(bytes)));
        Assert.Contains("version", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(5000)]
    [InlineData(700_000)]
    public void Open_TruncatedFixture_ThrowsTruncation(int keep)
    {
        var bytes = File.ReadAllBytes(TokenizerFixtures.VocabPath("llama-spm"))[..keep];

        var e = Assert.Throws<InvalidDataException>(() => GgufReader.Open(Write($"cut{keep}.gguf", bytes)));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Read_AbsurdKeyValueCount_ThrowsBeforeAllocating()
    {
        var bytes = new GgufTestFileBuilder().AddString("k", "v").Build();
        BitConverter.GetBytes(ulong.MaxValue / 2).CopyTo(bytes, 16);

        var e = Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(bytes)));
        Assert.Contains("absurd", e.Message);
    }

    [Fact]
    public void Read_HugeArrayCount_ThrowsBeforeAllocating()
    {
        var bytes = new GgufTestFileBuilder().Add("arr", GgufValueType.Array, w =>
        {
            w.Write((uint)GgufValueType.Float32);
            w.Write(1UL << 30);
        }).Build();

        var e = Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(bytes)));
        Assert.Contains("array 'arr'", e.Message);
    }

    [Fact]
    public void Read_NonSeekableStreamWithHugeCount_ThrowsBeforeAllocating()
    {
        var bytes = new GgufTestFileBuilder().Add("arr", GgufValueType.Array, w =>
        {
            w.Write((uint)GgufValueType.UInt8);
            w.Write(1UL << 29);
        }).Build();

        var e = Assert.Throws<InvalidDataException>(() => GgufReader.Read(new ForwardOnlyStream(bytes)));
        Assert.Contains("absurd", e.Message);
    }

    [Fact]
    public void Read_NonSeekableStream_ReadsMetadata()
    {
        var bytes = new GgufTestFileBuilder().AddString("general.name", "tiny").AddTensor("t", GgmlType.F32, [1], new byte[4]).Build();

        using var gguf = GgufReader.Read(new ForwardOnlyStream(bytes));

        Assert.Equal("tiny", gguf.GetString("general.name"));
        Assert.Throws<InvalidOperationException>(() => gguf.ReadTensorData(gguf.Tensors[0]));
    }

    [Fact]
    public void Read_HugeStringLength_Throws()
    {
        var bytes = new GgufTestFileBuilder().Add("s", GgufValueType.String, w => w.Write(1UL << 50)).Build();

        var e = Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(bytes)));
        Assert.Contains("string length", e.Message);
    }

    [Fact]
    public void Read_UnknownValueTypeOrBadBool_Throws()
    {
        var badType = new GgufTestFileBuilder().Add("x", (GgufValueType)99, w => w.Write(0)).Build();
        var badBool = new GgufTestFileBuilder().Add("b", GgufValueType.Bool, w => w.Write((byte)7)).Build();

        Assert.Contains("unknown value type", Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(badType))).Message);
        Assert.Contains("bool", Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(badBool))).Message);
    }

    [Fact]
    public void Read_DuplicateKey_Throws()
    {
        var bytes = new GgufTestFileBuilder().AddString("k", "a").AddString("k", "b").Build();

        Assert.Contains("twice", Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(bytes))).Message);
    }

    [Fact]
    public void Open_TensorDataPastEndOfFile_Throws()
    {
        var bytes = new GgufTestFileBuilder().AddTensor("w", GgmlType.F32, [64], new byte[256]).Build();

        var e = Assert.Throws<InvalidDataException>(() => GgufReader.Open(Write("short.gguf", bytes[..^64])));
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void Read_TooManyDimensionsOrBadAlignment_Throws()
    {
        var dims = new GgufTestFileBuilder().AddTensor("t", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4]).Build();
        var align = new GgufTestFileBuilder().AddUInt32("general.alignment", 48).Build();

        Assert.Contains("dimensions", Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(dims))).Message);
        Assert.Contains("alignment", Assert.Throws<InvalidDataException>(() => GgufReader.Read(new MemoryStream(align))).Message);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    // A network-like stream: no length, no seeking, short reads. The NotSupportedExceptions below are the Stream
    // contract for CanSeek/CanWrite = false, which is exactly what the reader must cope with.
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
