namespace Dynamo.Worker.Disaggregation;

/// <summary>
/// Decode side: the blocks a transfer delivered intact (the first <see cref="Blocks"/> of the prompt, in order),
/// handed to the scheduler, which imports the ones its prefix cache lacks at the request's first admission.
/// </summary>
public sealed class RemoteKvImport : IDisposable
{
    private readonly ulong[] _hashes;
    private byte[]? _bytes;
    private readonly int _blockBytes;
    private Action? _release;

    /// <param name="bytes">Block bytes back to back; null for a hashes-only (mocker) transfer.</param>
    /// <param name="release">Returns the buffer's reservation; called once, on <see cref="Release"/>.</param>
    public RemoteKvImport(int blocks, ulong[] hashes, byte[]? bytes, int blockBytes, Action? release = null)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blocks, hashes.Length);
        Blocks = blocks;
        _hashes = hashes;
        _bytes = bytes;
        HasBytes = bytes is not null;
        _blockBytes = blockBytes;
        _release = release;
    }

    public int Blocks { get; }

    public bool HasBytes { get; }

    public ulong SequenceHash(int index) => index < Blocks ? _hashes[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public ReadOnlySpan<byte> Block(int index) =>
        index < Blocks && _bytes is not null ? _bytes.AsSpan(index * _blockBytes, _blockBytes) : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The bytes are no longer needed (imported, or the request ended first). Idempotent, thread-safe.</summary>
    public void Release() => Interlocked.Exchange(ref _release, null)?.Invoke();

    public void Dispose() => Release();

    /// <summary>
    /// After the import: lets the bytes go although the request (which references this) lives on. Only the
    /// scheduler loop calls it, and only the loop reads the bytes, so no read can race it.
    /// </summary>
    internal void DropBytes()
    {
        _bytes = null;
        Release();
    }
}
