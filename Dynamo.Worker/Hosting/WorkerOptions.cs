using System.ComponentModel.DataAnnotations;
using Dynamo.Runtime.Contracts;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Dynamo.Worker.Hosting;

/// <summary>What this worker serves and how it announces itself (section <c>Worker</c>).</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Served model name, as clients and the router know it.</summary>
    [Required(ErrorMessage = "Worker:Model is required.")]
    [RegularExpression(@"^[A-Za-z0-9._:/-]+$", ErrorMessage = "Worker:Model may contain only letters, digits and . _ : / -.")]
    public string Model { get; set; } = "dynamo-default";

    public WorkerRole Role { get; set; } = WorkerRole.Aggregated;

    [RegularExpression("^(native|mocker|openai)$", ErrorMessage = "Worker:Engine must be one of native, mocker, openai.")]
    public string Engine { get; set; } = "native";

    /// <summary>Tokens per KV block; only full blocks are shared (DESIGN.md §2).</summary>
    [Range(1, 1024, ErrorMessage = "Worker:BlockSize must be between 1 and 1024.")]
    public int BlockSize { get; set; } = 16;

    /// <summary>
    /// Blocks in the engine's KV pool (G1), allocated at start and advertised in the registration. The default
    /// keeps the default model's pool at 1 GiB: 8 layers × (K+V) × 4 KV heads × 64 dims × 4 bytes (F32) = 16 KiB per
    /// token, × 16 tokens = 256 KiB per block, × 4096 blocks = 1 GiB (65,536 tokens).
    /// </summary>
    [Range(1, 100_000_000, ErrorMessage = "Worker:KvCapacityBlocks must be between 1 and 100000000.")]
    public long KvCapacityBlocks { get; set; } = 4_096;

    /// <summary>
    /// Protocols of the worker's main URLs. Http1AndHttp2 serves HTTP/1.1 and, over TLS (ALPN), HTTP/2. Kestrel
    /// (.NET 10) does not sniff the HTTP/2 preface on cleartext mixed endpoints (dotnet/aspnetcore#56984): such a
    /// connection is HTTP/1.1. Routers and peers reach the request plane over h2c on <see cref="RequestPlanePort"/>
    /// instead; set Http2 here only for a worker without that port (-1) that must still speak h2c.
    /// </summary>
    public HttpProtocols HttpProtocols { get; set; } = HttpProtocols.Http1AndHttp2;

    /// <summary>
    /// Port of the h2c-only listener for the request plane (generate, prefill, KV transfer), advertised as
    /// <c>endpoints.requestPlane</c>: 0 → a free port picked at start, -1 → none (the main URLs serve everything,
    /// as before). One HTTP/2 connection then multiplexes every stream between a router and this worker.
    /// </summary>
    [Range(-1, 65_535, ErrorMessage = "Worker:RequestPlanePort must be -1 (off), 0 (a free port) or a port number.")]
    public int RequestPlanePort { get; set; }

    /// <summary>Registry lease; the heartbeat renews it every third of this.</summary>
    [Range(1, 3600, ErrorMessage = "Worker:LeaseTtlSeconds must be between 1 and 3600.")]
    public int LeaseTtlSeconds { get; set; } = 10;

    /// <summary>How often the worker publishes its load (<c>dynamo.{ns}.metrics.{worker}</c>) for routers and the planner.</summary>
    [Range(10, 60_000, ErrorMessage = "Worker:LoadMetricsIntervalMilliseconds must be between 10 and 60000.")]
    public int LoadMetricsIntervalMilliseconds { get; set; } = 250;

    /// <summary>
    /// On SIGTERM, how long in-flight streams may run on after the worker unregistered and stopped accepting work;
    /// the host's shutdown timeout is set above it.
    /// </summary>
    [Range(0, 3600, ErrorMessage = "Worker:DrainTimeoutSeconds must be between 0 and 3600.")]
    public int DrainTimeoutSeconds { get; set; } = 30;

    /// <summary>A Llama or Qwen2 GGUF file; empty → the built-in default model, generated on first run.</summary>
    public string? ModelPath { get; set; }

    /// <summary>Where the default model is generated; defaults to <c>models/generated</c> at the repository root.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>URL other services use to reach this worker; defaults to the first URL Kestrel is told to bind.</summary>
    [Url(ErrorMessage = "Worker:AdvertisedUrl must be an absolute URL.")]
    public string? AdvertisedUrl { get; set; }
}
