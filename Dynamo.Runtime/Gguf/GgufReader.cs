using Microsoft.Win32.SafeHandles;

namespace Dynamo.Runtime.Gguf;

/// <summary>
/// Reads a GGUF v2/v3 file: header, every metadata key/value, tensor infos and where the data section starts.
/// Tensor bytes are read on demand (<see cref="ReadTensorData(GgufTensorInfo, Span{byte})"/>), never loaded up front.
/// Corrupt input fails with <see cref="InvalidDataException"/> naming the offset and the field.
/// </summary>
public sealed partial class GgufReader : IDisposable
{
    private const int MaxNestingDepth = 16;
    private const int MaxDimensions = 4; // GGML_MAX_DIMS

    private readonly Dictionary<string, GgufMetadataValue> _metadata;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;
    private readonly SafeFileHandle? _file;
    private readonly Stream? _stream;
    private readonly long _baseOffset;

    private GgufReader(
        uint version,
        List<KeyValuePair<string, GgufMetadataValue>> metadata,
        List<GgufTensorInfo> tensors,
        int alignment,
        long dataOffset,
        SafeFileHandle? file,
        Stream? stream,
        long baseOffset)
    {
        Version = version;
        MetadataInFileOrder = metadata;
        _metadata = new Dictionary<string, GgufMetadataValue>(metadata, StringComparer.Ordinal);
        Tensors = tensors;
        _tensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Alignment = alignment;
        DataOffset = dataOffset;
        _file = file;
        _stream = stream;
        _baseOffset = baseOffset;
    }

    public uint Version { get; }

    public IReadOnlyDictionary<string, GgufMetadataValue> Metadata => _metadata;

    public IReadOnlyList<KeyValuePair<string, GgufMetadataValue>> MetadataInFileOrder { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary><c>general.alignment</c>, or 32 when the file does not set it.</summary>
    public int Alignment { get; }

    /// <summary>Offset of the tensor data section from the start of the GGUF content.</summary>
    public long DataOffset { get; }

    /// <summary>Opens a file; the handle stays open for tensor reads until <see cref="Dispose"/>.</summary>
    public static GgufReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            // A separate stream for parsing: disposing a FileStream built on the handle would close the handle too.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            return Parse(stream, handle, null, 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Parses GGUF content starting at the stream's current position. When the stream can seek it is kept (not owned)
    /// for tensor reads; otherwise only metadata and tensor infos are available.
    /// </summary>
    public static GgufReader Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var baseOffset = stream.CanSeek ? stream.Position : 0;
        return Parse(stream, null, stream.CanSeek ? stream : null, baseOffset);
    }

    public bool ContainsKey(string key) => _metadata.ContainsKey(key);

    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufMetadataValue? value) =>
        _metadata.TryGetValue(key, out value);

    public GgufMetadataValue GetValue(string key) =>
        _metadata.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"GGUF metadata key '{key}' is missing.");

    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufTensorInfo? tensor) =>
        _tensorsByName.TryGetValue(name, out tensor);

    /// <summary>Copies a tensor's bytes into <paramref name="destination"/>, which must be exactly <see cref="GgufTensorInfo.ByteSize"/> long.</summary>
    public void ReadTensorData(GgufTensorInfo tensor, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (destination.Length != tensor.ByteSize)
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.ByteSize} bytes; the destination has {destination.Length}.", nameof(destination));
        }

        var position = _baseOffset + DataOffset + (long)tensor.Offset;
        if (_file is not null)
        {
            var read = 0;
            while (read < destination.Length)
            {
                var n = RandomAccess.Read(_file, destination[read..], position + read);
                read += n > 0 ? n : throw new InvalidDataException($"GGUF tensor '{tensor.Name}' is truncated.");
            }
        }
        else if (_stream is not null)
        {
            _stream.Position = position;
            _stream.ReadExactly(destination);
        }
        else
        {
            throw new InvalidOperationException("This GGUF reader was created from a stream that cannot seek; tensor data is not available.");
        }
    }

    public byte[] ReadTensorData(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var data = new byte[tensor.ByteSize];
        ReadTensorData(tensor, data);
        return data;
    }

    public void Dispose() => _file?.Dispose();
}
