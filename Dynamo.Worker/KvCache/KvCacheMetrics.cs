using System.Diagnostics.Metrics;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Worker.KvCache;

/// <summary>One tier's state and lifetime counters.</summary>
/// <param name="UsedBlocks">Blocks holding data (for G1: referenced plus idle cached blocks).</param>
/// <param name="Hits">Blocks matched by prefix lookups while in this tier.</param>
/// <param name="Offloads">Blocks that entered this tier from the tier above.</param>
/// <param name="Onboards">Blocks that left this tier for G1 on a hit.</param>
/// <param name="Evictions">Blocks pushed out of this tier to make room (offloaded further or dropped).</param>
public sealed record KvTierSnapshot(KvTier Tier, int UsedBlocks, int CapacityBlocks, long Hits, long Offloads, long Onboards, long Evictions)
{
    public double Usage => CapacityBlocks == 0 ? 0 : (double)UsedBlocks / CapacityBlocks;
}

/// <summary>G1 detail plus every configured tier.</summary>
public sealed record KvCacheSnapshot(int ActiveBlocks, int FreeBlocks, IReadOnlyList<KvTierSnapshot> Tiers);

/// <summary>
/// Per-tier instruments on the <c>Dynamo.Worker.KvCache</c> meter, tagged <c>tier</c> = device/host/disk.
/// Counters are mirrored in plain fields for <see cref="KvBlockManager.Snapshot"/>; the observable gauges read
/// them from the exporter's thread, where a slightly stale int is harmless.
/// </summary>
internal sealed class KvCacheMetrics : IDisposable
{
    public const string MeterName = "Dynamo.Worker.KvCache";

    private readonly Meter _meter;
    private readonly Counter<long> _hits;
    private readonly Counter<long> _offloads;
    private readonly Counter<long> _onboards;
    private readonly Counter<long> _evictions;
    private readonly long[,] _counts = new long[3, 4];
    private readonly KeyValuePair<string, object?>[] _tierTags =
    [
        new("tier", "device"),
        new("tier", "host"),
        new("tier", "disk"),
    ];

    public KvCacheMetrics(IMeterFactory? meterFactory, Func<IReadOnlyList<KvTierSnapshot>> tiers)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _hits = _meter.CreateCounter<long>("dynamo_worker_kv_hits_total", "{block}", "KV blocks matched by prefix lookups, by tier.");
        _offloads = _meter.CreateCounter<long>("dynamo_worker_kv_offloads_total", "{block}", "KV blocks moved down into a tier.");
        _onboards = _meter.CreateCounter<long>("dynamo_worker_kv_onboards_total", "{block}", "KV blocks moved from a tier back to G1.");
        _evictions = _meter.CreateCounter<long>("dynamo_worker_kv_evictions_total", "{block}", "KV blocks evicted from a tier.");
        _meter.CreateObservableGauge("dynamo_worker_kv_usage", () => Observe(tiers(), static t => t.Usage), "1", "Fraction of a KV tier's blocks holding data.");
        _meter.CreateObservableGauge("dynamo_worker_kv_blocks", () => Observe(tiers(), static t => t.UsedBlocks), "{block}", "KV blocks holding data, by tier.");
    }

    public void Hit(KvTier tier) => Add(_hits, tier, 0);

    public void Offload(KvTier tier) => Add(_offloads, tier, 1);

    public void Onboard(KvTier tier) => Add(_onboards, tier, 2);

    public void Evict(KvTier tier) => Add(_evictions, tier, 3);

    public KvTierSnapshot Snapshot(KvTier tier, int used, int capacity)
    {
        var t = (int)tier;
        return new KvTierSnapshot(tier, used, capacity, _counts[t, 0], _counts[t, 1], _counts[t, 2], _counts[t, 3]);
    }

    public void Dispose() => _meter.Dispose();

    private void Add(Counter<long> counter, KvTier tier, int index)
    {
        _counts[(int)tier, index]++;
        counter.Add(1, _tierTags[(int)tier]);
    }

    private IEnumerable<Measurement<T>> Observe<T>(IReadOnlyList<KvTierSnapshot> tiers, Func<KvTierSnapshot, T> value)
        where T : struct
    {
        var result = new Measurement<T>[tiers.Count];
        for (var i = 0; i < tiers.Count; i++)
        {
            result[i] = new Measurement<T>(value(tiers[i]), _tierTags[(int)tiers[i].Tier]);
        }

        return result;
    }
}
