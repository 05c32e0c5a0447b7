using Dynamo.Worker.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Disaggregation;

/// <summary>This worker's side of a transfer's compatibility check: what its blocks are and how they are laid out.</summary>
public sealed record KvTransferLayout(string Model, string Engine, string Layout, int BlockSize, int BlockBytes)
{
    public bool HasBytes => BlockBytes > 0;

    /// <summary>Why blocks described by <paramref name="header"/> cannot be imported here, or null when they can.</summary>
    public string? Mismatch(KvTransferHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        return header.Model != Model ? $"model '{header.Model}' is not this worker's '{Model}'"
            : header.Engine != Engine ? $"engine '{header.Engine}' is not this worker's '{Engine}'"
            : header.BlockSize != BlockSize ? $"block size {header.BlockSize} is not this worker's {BlockSize}"
            : header.Layout != Layout ? $"KV layout '{header.Layout}' is not this worker's '{Layout}'"
            : header.BlockBytes != BlockBytes ? $"{header.BlockBytes} bytes per block is not this worker's {BlockBytes}"
            : null;
    }

    public KvTransferHeader Header(string transferId, int promptTokens, ulong[] sequenceHashes) =>
        new(transferId, Model, Engine, Layout, BlockSize, BlockBytes, promptTokens, sequenceHashes);
}

/// <summary>Describes the running engine's KV layout (after the engine host started).</summary>
public sealed class KvTransferLayoutProvider(IOptions<WorkerOptions> worker, WorkerEngineHost host, WorkerModel model)
{
    private KvTransferLayout? _layout;

    public KvTransferLayout Current => _layout ??= Describe();

    private KvTransferLayout Describe()
    {
        var options = worker.Value;
        var kv = host.KvBlocks;
        if (options.Engine == "mocker")
        {
            // No K/V bytes: a mocker transfer moves hashes only and simulates the byte transfer's time.
            return new KvTransferLayout(options.Model, "mocker", "mocker", kv.BlockSize, 0);
        }

        // The pool stores F32 K and V per layer, KV head and head dimension (NativeKvPool's default type).
        var info = model.Model.Info;
        var layout = $"native:{info.Architecture}:{info.LayerCount}x{info.KvHeadCount}x{info.HeadDim}:f32:{info.WeightType}:{info.ParameterCount}";
        return new KvTransferLayout(options.Model, options.Engine, layout.ToLowerInvariant(), kv.BlockSize, kv.BlockBytes);
    }
}
