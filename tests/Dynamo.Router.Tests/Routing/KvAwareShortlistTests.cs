using Dynamo.Router.Routing;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Router.Routing.Policies;
using Dynamo.Runtime.Contracts;
using Dynamo.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Dynamo.Router.Tests.Routing.KvIndexServiceTests;
using static Dynamo.Router.Tests.Routing.KvIndexTests;

namespace Dynamo.Router.Tests.Routing;

/// <summary>The router's kv_aware shortlist must choose exactly what the policy chooses over every worker.</summary>
public sealed class KvAwareShortlistTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task RouteAsync_RandomClusters_ChoosesWhatTheFullScanChooses()
    {
        var random = new Random(11);
        var ties = 0;
        for (var trial = 0; trial < 300; trial++)
        {
            var index = new KvIndex();
            var approximate = new ApproximateKvIndex(_time, TimeSpan.FromMinutes(2), 10_000);
            var active = new ActiveSequenceTracker(_time, TimeSpan.FromMinutes(5));
            var loads = new WorkerLoadTracker(_time, TimeSpan.FromSeconds(30));
            var chains = Enumerable.Range(0, 3).Select(c => Enumerable.Range(1, 12).Select(i => (ulong)((c * 100) + i)).ToArray()).ToArray();
            var workers = new List<WorkerRegistration>();
            for (var w = 0; w < random.Next(1, 40); w++)
            {
                // Few distinct states on purpose: equal costs (and equal cache sizes) make the tie rules decide.
                var openai = random.Next(5) == 0;
                var registration = Registration($"w{w}", openai ? "openai" : "mocker", blockSize: random.Next(2) == 0 ? 16 : 32);
                workers.Add(registration);
                var chain = chains[random.Next(chains.Length)][..random.Next(0, 13)];
                if (openai)
                {
                    approximate.Record(registration.WorkerId, chain);
                }
                else if (random.Next(4) > 0)
                {
                    index.Apply(Batch(registration.WorkerId, 1, Stored(null, chain, (KvTier)random.Next(3))));
                }

                for (var s = random.Next(3); s > 0; s--)
                {
                    active.Add($"r{w}-{s}", registration.WorkerId, 16 * random.Next(3), random.Next(3));
                }
            }

            var hashes = chains[random.Next(chains.Length)][..random.Next(1, 13)];
            var request = new RoutingRequest(
                $"q{trial}", hashes, (hashes.Length * 16) - random.Next(16), new RoutingOverrides { OverlapScoreWeight = random.Next(4) * 0.5 });

            var expected = FullScan(index, approximate, active, loads, workers, request, seed: trial);
            var router = new RequestRouter(
                index, approximate, active, loads, new ReseededRandom(trial), _time, Options.Create(new KvRoutingOptions()), NullLogger<RequestRouter>.Instance);
            var actual = await router.RouteAsync(request, workers);

            Assert.Equal(expected, actual.Decision);
            ties += expected.Reason.Contains("tie", StringComparison.Ordinal) ? 1 : 0;
            actual.Sequence!.Dispose();
        }

        // The property is only tested where it can fail: many decisions must have gone through the tie rules.
        Assert.True(ties > 30, $"only {ties} decisions were ties");
    }

    [Fact]
    public async Task RouteAsync_OneRouterWhileWorkersLeaveRejoinAndReorder_ChoosesWhatTheFullScanChooses()
    {
        // The shortlist guesses each position's slot from the previous decision; leaves, rejoins (new slots) and
        // shuffled candidate lists make those guesses wrong, and a wrong guess must never count.
        var random = new Random(5);
        var index = new KvIndex();
        var approximate = new ApproximateKvIndex(_time, TimeSpan.FromMinutes(2), 10_000);
        var active = new ActiveSequenceTracker(_time, TimeSpan.FromMinutes(5));
        var loads = new WorkerLoadTracker(_time, TimeSpan.FromSeconds(30));
        var chain = Enumerable.Range(1, 12).Select(i => (ulong)i).ToArray();
        var workers = Enumerable.Range(0, 12).Select(w => Registration($"w{w}", "mocker", blockSize: 16)).ToList();
        foreach (var worker in workers)
        {
            index.Apply(Batch(worker.WorkerId, 1, Stored(null, chain[..random.Next(1, 13)], KvTier.Device)));
        }

        var swapped = 0;
        for (var step = 0; step < 200; step++)
        {
            // Two workers leave and rejoin in the opposite order, so they trade slots; every other step the list is
            // also shuffled. Either way the previous decision's guesses point at the wrong slots.
            var a = workers[random.Next(workers.Count)].WorkerId;
            var b = workers[random.Next(workers.Count)].WorkerId;
            var slotBefore = index.SlotOf(a);
            index.RemoveWorker(a);
            index.RemoveWorker(b);
            index.Apply(Batch(b, step + 2, Stored(null, chain[..random.Next(1, 13)], KvTier.Device)));
            index.Apply(Batch(a, step + 2, Stored(null, chain[..random.Next(1, 13)], KvTier.Device)));
            swapped += index.SlotOf(a) != slotBefore ? 1 : 0;
            var order = step % 2 == 0 ? workers.OrderBy(_ => random.Next()).ToList() : workers;
            var request = new RoutingRequest($"q{step}", chain, chain.Length * 16, new RoutingOverrides { OverlapScoreWeight = 1 });

            var expected = FullScan(index, approximate, active, loads, order, request, seed: step);
            var router = new RequestRouter(
                index, approximate, active, loads, new ReseededRandom(step), _time, Options.Create(new KvRoutingOptions()), NullLogger<RequestRouter>.Instance);
            var actual = await router.RouteAsync(request, order);

            Assert.Equal(expected, actual.Decision);
            actual.Sequence!.Dispose();
            workers = order;
        }

        Assert.True(swapped > 50, $"only {swapped} slot swaps");
    }

    /// <summary>The kv_aware decision as it was before the shortlist: every worker a candidate.</summary>
    private static RoutingDecision FullScan(
        KvIndex index, ApproximateKvIndex approximate, ActiveSequenceTracker active, WorkerLoadTracker loads,
        List<WorkerRegistration> workers, RoutingRequest request, int seed)
    {
        var hashes = request.BlockHashes.ToArray();
        var overlaps = index.FindMatches(hashes);
        var candidates = workers.Select(w =>
        {
            var isApproximate = w.Engine == "openai" || !index.HasWorker(w.WorkerId);
            var overlap = isApproximate ? new WorkerOverlap(w.WorkerId, approximate.Overlap(w.WorkerId, hashes), 0, 0) : overlaps.For(w.WorkerId);
            var cached = isApproximate ? approximate.BlockCount(w.WorkerId) : index.BlockCount(w.WorkerId);
            return new WorkerCandidate(w, overlap, active.Get(w.WorkerId), loads.Get(w.WorkerId), cached);
        }).ToList();
        var options = new KvRoutingOptions();
        var context = new RoutingContext(
            request, candidates, new ReseededRandom(seed), request.Overrides!.OverlapScoreWeight!.Value, 0, options.HostTierWeight, options.DiskTierWeight);
        return RoutingPolicies.Create(RoutingPolicies.KvAware).Select(context);
    }

    private sealed class ReseededRandom(int seed) : IRandomSource
    {
        private readonly Random _random = new(seed);

        public double NextDouble() => _random.NextDouble();

        public int Next(int maxExclusive) => _random.Next(maxExclusive);
    }
}
