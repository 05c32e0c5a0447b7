using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.KvCache;

/// <summary>Building a manager, with its G2/G3 stores, from <see cref="KvCacheOptions"/>.</summary>
public sealed partial class KvBlockManager
{
    /// <summary>
    /// Creates the manager and the tiers the options size (GB → whole blocks of <see cref="IKvBlockIo.BlockBytes"/>;
    /// a tier smaller than one block is left out). The manager owns and disposes the stores it creates.
    /// </summary>
    public static KvBlockManager Create(KvCacheOptions options, IKvBlockIo io, IKvEventSink events, TimeProvider time, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(io);
        ArgumentException.ThrowIfNullOrEmpty(options.WorkerId);
        var hostBytes = KvCacheOptions.GbToBytes(options.HostCacheGb);
        var diskBytes = KvCacheOptions.GbToBytes(options.DiskCacheGb);
        IKvBlockStore? host = hostBytes >= io.BlockBytes ? new HostBlockStore(hostBytes, io.BlockBytes) : null;
        IKvBlockStore? disk = null;

        // More swap space than one pool's worth could never all come back at once; engines without K/V bytes
        // (1-byte mocker blocks) would otherwise size it in billions of slots.
        var swapBlocks = Math.Min(KvCacheOptions.GbToBytes(options.SwapSpaceGb) / io.BlockBytes, options.BlockCount);
        IKvBlockStore? swap = swapBlocks > 0 ? new HostBlockStore(swapBlocks * io.BlockBytes, io.BlockBytes) : null;
        try
        {
            if (diskBytes >= io.BlockBytes)
            {
                var folder = options.DiskCacheDirectory ?? Path.GetTempPath();
                Directory.CreateDirectory(folder);
                disk = new DiskBlockStore(Path.Combine(folder, $"dynamo-kv-{options.WorkerId}-{Environment.ProcessId}.bin"), diskBytes, io.BlockBytes);
            }

            var manager = new KvBlockManager(
                options.BlockCount, options.BlockSize, options.WorkerId, io, events, time, host, disk, options.DiskMinHits, meterFactory, swap);
            manager._ownedStores = [.. new[] { host, disk, swap }.OfType<IKvBlockStore>()];
            return manager;
        }
        catch
        {
            host?.Dispose();
            disk?.Dispose();
            swap?.Dispose();
            throw;
        }
    }
}

/// <summary>Registration of the KV cache settings.</summary>
public static class KvCacheServiceCollectionExtensions
{
    /// <summary>Binds <see cref="KvCacheOptions"/> to <c>Worker:KvCache</c>, validated at start-up.</summary>
    public static IServiceCollection AddKvCacheOptions(this IServiceCollection services)
    {
        services.AddOptions<KvCacheOptions>().BindConfiguration(KvCacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
