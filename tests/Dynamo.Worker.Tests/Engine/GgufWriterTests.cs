using Dynamo.Runtime.Gguf;
using Dynamo.Worker.Models;

namespace Dynamo.Worker.Tests.Engine;

public sealed class GgufWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dynamo-gguf-writer-").FullName;

    [Fact]
    public void WriteTo_EveryValueType_RoundTrips()
    {
        var writer = EveryValueType();

        using var file = GgufReader.Open(Write(writer));

        Assert.Equal((byte)200, file.Get<byte>("u8"));
        Assert.Equal((sbyte)-5, file.Get<sbyte>("i8"));
        Assert.Equal((ushort)60000, file.Get<ushort>("u16"));
        Assert.Equal((short)-30000, file.Get<short>("i16"));
        Assert.Equal(4_000_000_000u, file.Get<uint>("u32"));
        Assert.Equal(-2_000_000_000, file.Get<int>("i32"));
        Assert.Equal(ulong.MaxValue, file.Get<ulong>("u64"));
        Assert.Equal(long.MinValue, file.Get<long>("i64"));
        Assert.Equal(1.5f, file.Get<float>("f32"));
        Assert.Equal(Math.PI, file.Get<double>("f64"));
        Assert.True(file.Get<bool>("bool"));
        Assert.Equal("héllo ▁world", file.Get<string>("str"));
        Assert.Equal(["a", "", "ü"], file.Get<string[]>("strs"));
        Assert.Equal([1f, -2.5f], file.Get<float[]>("floats"));
        Assert.Equal([3, -4, 5], file.Get<int[]>("ints"));
    }

    [Fact]
    public void Add_MetadataValuesOfAReader_CopyTheFileByteForByte()
    {
        var original = Write(EveryValueType());

        var copy = new GgufWriter();
        using (var file = GgufReader.Open(original))
        {
            foreach (var (key, value) in file.MetadataInFileOrder)
            {
                copy.Add(key, value);
            }
        }

        Assert.Equal(File.ReadAllBytes(original), File.ReadAllBytes(Write(copy)));
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void WriteTo_Tensors_AreAlignedAndReadBack(int alignment)
    {
        var writer = new GgufWriter(alignment);
        float[] a = [1, 2, 3];
        var b = Enumerable.Range(0, 64).Select(i => i / 10f).ToArray();
        writer.AddTensor("a", [3], GgmlType.F32, TensorEncoding.Encode(a, GgmlType.F32));
        writer.AddTensor("b", [32, 2], GgmlType.Q8_0, TensorEncoding.Encode(b, GgmlType.Q8_0));

        using var file = GgufReader.Open(Write(writer));

        Assert.All(file.Tensors, t => Assert.Equal(0, (file.DataOffset + (long)t.Offset) % alignment));
        Assert.Equal(a, TensorEncoding.Decode(file.ReadTensorBytes("a"), GgmlType.F32, 3));
        var decoded = TensorEncoding.Decode(file.ReadTensorBytes("b"), GgmlType.Q8_0, 64);
        // Half a quantization step (amax/127/2 ≈ 0.025 for the second block) plus the half-precision scale.
        Assert.All(decoded.Zip(b), p => Assert.InRange(p.First - p.Second, -0.03f, 0.03f));
        Assert.Equal(alignment == 32 ? null : (object)(uint)alignment, file.Metadata.GetValueOrDefault("general.alignment")?.Value);
    }

    [Fact]
    public void AddTensor_WrongByteCount_Throws()
    {
        var writer = new GgufWriter();

        var ex = Assert.Throws<ArgumentException>(() => writer.AddTensor("t", [32], GgmlType.Q8_0, new byte[33]));

        Assert.Contains("needs 34 bytes", ex.Message);
    }

    [Fact]
    public void Add_DuplicateKey_Throws()
    {
        var writer = new GgufWriter();
        writer.Add("k", 1);

        Assert.Throws<ArgumentException>(() => writer.Add("k", 2));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A writer holding a value of every scalar type and arrays of several element types.</summary>
    private static GgufWriter EveryValueType()
    {
        var writer = new GgufWriter();
        writer.Add("u8", (byte)200);
        writer.Add("i8", (sbyte)-5);
        writer.Add("u16", (ushort)60000);
        writer.Add("i16", (short)-30000);
        writer.Add("u32", 4_000_000_000u);
        writer.Add("i32", -2_000_000_000);
        writer.Add("u64", ulong.MaxValue);
        writer.Add("i64", long.MinValue);
        writer.Add("f32", 1.5f);
        writer.Add("f64", Math.PI);
        writer.Add("bool", true);
        writer.Add("str", "héllo ▁world");
        writer.AddArray("strs", ["a", "", "ü"]);
        writer.AddArray<float>("floats", [1f, -2.5f]);
        writer.AddArray<int>("ints", [3, -4, 5]);
        writer.AddArray<bool>("bools", [true, false]);
        writer.AddArray<ushort>("u16s", [1, 65535]);
        writer.AddArray<long>("i64s", [long.MinValue, 7]);
        writer.AddArray<double>("f64s", [0.25, -1e300]);
        return writer;
    }

    private string Write(GgufWriter writer)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.gguf");
        writer.WriteTo(path);
        return path;
    }
}
