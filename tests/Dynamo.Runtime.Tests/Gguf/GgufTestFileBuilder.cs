using System.Text;
using Dynamo.Runtime.Gguf;

namespace Dynamo.Runtime.Tests.Gguf;

/// <summary>Writes small GGUF files byte by byte, so reader tests control every field (including broken ones).</summary>
internal sealed class GgufTestFileBuilder
{
    private readonly List<Action<BinaryWriter>> _kvs = [];
    private readonly List<(string Name, long[] Dims, GgmlType Type, byte[] Data)> _tensors = [];

    public uint Version { get; set; } = 3;

    public int Alignment { get; set; } = 32;

    public GgufTestFileBuilder Add(string key, GgufValueType type, Action<BinaryWriter> writeValue)
    {
        _kvs.Add(w =>
        {
            WriteString(w, key);
            w.Write((uint)type);
            writeValue(w);
        });
        return this;
    }

    public GgufTestFileBuilder AddString(string key, string value) => Add(key, GgufValueType.String, w => WriteString(w, value));

    public GgufTestFileBuilder AddUInt32(string key, uint value) => Add(key, GgufValueType.UInt32, w => w.Write(value));

    public GgufTestFileBuilder AddStringArray(string key, params string[] values) => Add(key, GgufValueType.Array, w =>
    {
        w.Write((uint)GgufValueType.String);
        w.Write((ulong)values.Length);
        foreach (var v in values)
        {
            WriteString(w, v);
        }
    });

    public GgufTestFileBuilder AddTensor(string name, GgmlType type, long[] dims, byte[] data)
    {
        _tensors.Add((name, dims, type, data));
        return this;
    }

    public byte[] Build()
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true);
        w.Write(GgmlTypeInfo.GgufMagic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_kvs.Count);
        foreach (var kv in _kvs)
        {
            kv(w);
        }

        ulong offset = 0;
        foreach (var (name, dims, type, data) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (var d in dims)
            {
                w.Write((ulong)d);
            }

            w.Write((uint)type);
            w.Write(offset);
            offset += Align((ulong)data.Length);
        }

        Pad(w);
        foreach (var (_, _, _, data) in _tensors)
        {
            w.Write(data);
            Pad(w);
        }

        w.Flush();
        return ms.ToArray();
    }

    public static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private ulong Align(ulong n) => (n + (ulong)Alignment - 1) / (ulong)Alignment * (ulong)Alignment;

    private void Pad(BinaryWriter w)
    {
        while (w.BaseStream.Position % Alignment != 0)
        {
            w.Write((byte)0);
        }
    }
}
