using System.ComponentModel.DataAnnotations;
using Dynamo.Planner.Connectors;
using Dynamo.Planner.Prediction;

namespace Dynamo.Planner.Hosting;

/// <summary>Planner settings (section <c>Planner</c>). SLA targets and replica bounds are not here: they live in Redis.</summary>
public sealed class PlannerOptions
{
    public const string Section = "Planner";

    /// <summary><see cref="PlannerModes.Throughput"/> (prediction + profile) or <see cref="PlannerModes.Load"/> (queue, KV usage, latency).</summary>
    [Required]
    public string Mode { get; set; } = PlannerModes.Throughput;

    /// <summary>One of <see cref="LoadPredictors.All"/>.</summary>
    [Required]
    public string Predictor { get; set; } = LoadPredictors.Kalman;

    /// <summary>One of <see cref="ScalingConnectors.All"/>.</summary>
    [Required]
    public string Connector { get; set; } = ScalingConnectors.Local;

    /// <summary>
    /// Pools this deployment runs and the planner scales; empty means aggregated only (the AppHost's default topology).
    /// No default items here: the configuration binder appends to a list, so a default would always stay in it.
    /// </summary>
    public List<string> Pools { get; set; } = [];

    /// <summary>Seconds between full decisions (predict, size every pool, scale up or down).</summary>
    [Range(1, 3600)]
    public double IntervalSeconds { get; set; } = 30;

    /// <summary>Seconds between burst checks, which only scale up, from queue depth.</summary>
    [Range(0.1, 600)]
    public double LoadCheckSeconds { get; set; } = 2;

    /// <summary>JSON written by the profiling command; relative paths resolve against the application's directory.</summary>
    [Required]
    public string ProfilePath { get; set; } = "Profiling/mocker-profile.json";

    /// <summary>Queued requests (router queue + waiting sequences) per replica that count as a burst worth another replica.</summary>
    [Range(1, 100_000)]
    public int QueuedPerReplica { get; set; } = 4;

    /// <summary>
    /// Throughput mode's fast check also runs the throughput model between intervals when the rate seen so far exceeds
    /// this multiple of the rate the last interval sized for (a step up in traffic), so replicas are added before the
    /// queue rule would notice.
    /// </summary>
    [Range(1, 100)]
    public double FastCheckRateRise { get; set; } = 1.25;

    /// <summary>Seconds after a burst scale-up of a pool before the fast check may add more (new replicas need time to start).</summary>
    [Range(0, 3600)]
    public double BurstCooldownSeconds { get; set; } = 10;

    /// <summary>
    /// Seconds after a pool's last scale-up during which a full decision does not scale it down (unless the cluster is
    /// idle): a burst's replicas are not stopped by the next interval while they are still starting.
    /// </summary>
    [Range(0, 86_400)]
    public double ScaleDownStabilizationSeconds { get; set; } = 90;

    /// <summary>Replicas a full decision may remove from a pool at once (an idle cluster still goes straight to its minimum).</summary>
    [Range(1, 64)]
    public int MaxScaleDownStep { get; set; } = 1;

    /// <summary>KV usage above which load mode adds a replica.</summary>
    [Range(0.05, 1)]
    public double KvUsageHigh { get; set; } = 0.85;

    /// <summary>Load mode removes a replica only when usage and latency are below these fractions (hysteresis).</summary>
    [Range(0.01, 1)]
    public double KvUsageLow { get; set; } = 0.5;

    [Range(0.01, 1)]
    public double LatencyLowFraction { get; set; } = 0.6;

    /// <summary>Metrics older than this (a router or worker that went away) no longer count.</summary>
    [Range(1, 3600)]
    public double StaleAfterSeconds { get; set; } = 10;

    /// <summary>Correction factors (observed ÷ profiled latency) are kept within [1/x, x] so one outlier cannot size the fleet.</summary>
    [Range(1, 100)]
    public double MaxCorrection { get; set; } = 4;

    /// <summary>
    /// Weight of the newest observation in the smoothed correction factors (1 = no smoothing, each decision uses only
    /// what it just saw; 0.5 = a persistent gap is learnt within about three intervals).
    /// </summary>
    [Range(0.01, 1)]
    public double CorrectionWeight { get; set; } = 0.5;

    /// <summary>Seconds the virtual connector waits for its acknowledgement.</summary>
    [Range(0.1, 3600)]
    public double VirtualAckTimeoutSeconds { get; set; } = 30;

    /// <summary>Pool → AppHost resource or Kubernetes Deployment name.</summary>
    public Dictionary<string, string> Resources { get; set; } = new(StringComparer.Ordinal)
    {
        ["aggregated"] = "worker",
        ["prefill"] = "prefill-worker",
        ["decode"] = "decode-worker",
    };

    public KubernetesConnectorOptions Kubernetes { get; set; } = new();

    public PredictorSettings PredictorSettings { get; set; } = new();

    internal string ResourceFor(string pool) =>
        Resources.TryGetValue(pool, out var name) && name.Length > 0
            ? name
            : throw new InvalidOperationException($"No resource name is configured for pool '{pool}' (Planner:Resources:{pool}).");
}

/// <summary>Names of the planner modes.</summary>
public static class PlannerModes
{
    public const string Throughput = "throughput";
    public const string Load = "load";

    public static IReadOnlyList<string> All { get; } = [Throughput, Load];
}

/// <summary>Where the Kubernetes connector finds the API server and its credentials (defaults: the in-cluster service account).</summary>
public sealed class KubernetesConnectorOptions
{
    public string? ApiServer { get; set; }

    public string? Namespace { get; set; }

    public string? Token { get; set; }

    public string ServiceAccountPath { get; set; } = "/var/run/secrets/kubernetes.io/serviceaccount";
}
