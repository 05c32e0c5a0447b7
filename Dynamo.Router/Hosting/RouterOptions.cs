using System.ComponentModel.DataAnnotations;

namespace Dynamo.Router.Hosting;

/// <summary>The model this router fronts and how it reaches its workers (section <c>Router</c>).</summary>
public sealed class RouterOptions
{
    public const string Section = "Router";

    /// <summary>Served model name; the same default as <c>Worker:Model</c>, so a default router finds default workers.</summary>
    [Required(ErrorMessage = "Router:Model is required.")]
    [RegularExpression(@"^[A-Za-z0-9._:/-]+$", ErrorMessage = "Router:Model may contain only letters, digits and . _ : / -.")]
    public string Model { get; set; } = "dynamo-default";

    /// <summary>The GGUF the workers serve (tokenizer, chat template, context length); empty → the built-in default model's file.</summary>
    public string? ModelPath { get; set; }

    /// <summary>Where the default model lies; defaults to <c>models/generated</c> at the repository root, as the worker's.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>
    /// How long start-up waits for the default model file: a worker generates it on first run, and the router may
    /// start first.
    /// </summary>
    [Range(0, 3600, ErrorMessage = "Router:ModelWaitSeconds must be between 0 and 3600.")]
    public int ModelWaitSeconds { get; set; } = 120;

    /// <summary>A Jinja chat template file that replaces the GGUF's <c>tokenizer.chat_template</c>.</summary>
    public string? ChatTemplatePath { get; set; }

    /// <summary>Tool-call parser name (see <c>OutputParsers</c>); empty → none.</summary>
    public string? ToolCallParser { get; set; }

    /// <summary>Reasoning parser name (see <c>OutputParsers</c>); empty → none.</summary>
    public string? ReasoningParser { get; set; }

    /// <summary>
    /// HTTP version spoken to workers. <c>auto</c>: HTTP/2 with prior knowledge (one connection multiplexes every
    /// stream) to workers that advertise an h2c request plane (<c>endpoints.requestPlane</c>, on by default), HTTP/1.1
    /// to workers that do not. <c>2</c>: HTTP/2 also to workers without one (their main port runs
    /// <c>Worker:HttpProtocols=Http2</c>). <c>1.1</c>: always HTTP/1.1 to the main URL.
    /// </summary>
    [RegularExpression(@"^(auto|1\.1|2)$", ErrorMessage = "Router:WorkerHttpVersion must be auto, 1.1 or 2.")]
    public string WorkerHttpVersion { get; set; } = "auto";

    /// <summary>URL(s) the gateway uses to reach this router, ';'-separated; defaults to the addresses Kestrel bound.</summary>
    public string? AdvertisedUrl { get; set; }

    /// <summary>How often the model card is re-written (repairs a card lost by a Redis restart or a concurrent replica).</summary>
    [Range(1, 3600, ErrorMessage = "Router:CardRefreshSeconds must be between 1 and 3600.")]
    public int CardRefreshSeconds { get; set; } = 15;

    /// <summary>KV block size advertised in the model card until a worker says otherwise.</summary>
    [Range(1, 1024, ErrorMessage = "Router:KvBlockSize must be between 1 and 1024.")]
    public int KvBlockSize { get; set; } = 16;

    /// <summary>Seconds a client is told to wait (Retry-After) when no worker serves the model.</summary>
    [Range(1, 3600, ErrorMessage = "Router:RetryAfterSeconds must be between 1 and 3600.")]
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>
    /// How many times one choice may move to another worker when its stream breaks mid-generation (the prompt plus
    /// the tokens so far are sent again, max_tokens reduced); 0 turns migration off.
    /// </summary>
    [Range(0, 100, ErrorMessage = "Router:MigrationLimit must be between 0 and 100.")]
    public int MigrationLimit { get; set; } = 3;

    /// <summary>Upper bound on <c>n</c> (each choice is one worker request).</summary>
    [Range(1, 1024, ErrorMessage = "Router:MaxChoices must be between 1 and 1024.")]
    public int MaxChoices { get; set; } = 16;

    /// <summary>How often the router publishes its frontend metrics snapshot on the event plane (planner, Admin).</summary>
    [Range(100, 60_000, ErrorMessage = "Router:MetricsIntervalMilliseconds must be between 100 and 60000.")]
    public int MetricsIntervalMilliseconds { get; set; } = 1000;
}
