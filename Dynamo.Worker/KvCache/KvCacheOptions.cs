using System.ComponentModel.DataAnnotations;

namespace Dynamo.Worker.KvCache;

/// <summary>KV block manager settings (section <c>Worker:KvCache</c>); tier sizes are in GB (10^9 bytes).</summary>
public sealed class KvCacheOptions
{
    public const string Section = "Worker:KvCache";

    /// <summary>Identifies this worker in KV event batches.</summary>
    [Required]
    public string WorkerId { get; set; } = "";

    [Range(1, 1 << 20)]
    public int BlockCount { get; set; } = 1024;

    [Range(1, 4096)]
    public int BlockSize { get; set; } = 16;

    /// <summary>G2 host-memory tier size; 0 disables it.</summary>
    [Range(0, 4096)]
    public double HostCacheGb { get; set; }

    /// <summary>G3 local-disk tier size; 0 disables it.</summary>
    [Range(0, 65536)]
    public double DiskCacheGb { get; set; }

    /// <summary>Folder of the G3 cache file (default: the temp folder).</summary>
    public string? DiskCacheDirectory { get; set; }

    /// <summary>
    /// Host memory for sequences preempted by swap (<c>Worker:Scheduler:Preemption = swap</c>), at most one pool's
    /// worth of blocks; arrays are rented only while a sequence is swapped out. 0 → every preemption recomputes.
    /// 4 GB as vLLM's <c>swap_space</c>.
    /// </summary>
    [Range(0, 4096)]
    public double SwapSpaceGb { get; set; } = 4;

    /// <summary>Prefix hits a block needs before an eviction from G2 may move it to G3 instead of dropping it.</summary>
    [Range(0, 1000)]
    public int DiskMinHits { get; set; } = 2;

    public static long GbToBytes(double gb) => checked((long)(gb * 1_000_000_000d));
}
