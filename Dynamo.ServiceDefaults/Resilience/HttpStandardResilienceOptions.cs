using Microsoft.Extensions.Options;

namespace Dynamo.ServiceDefaults.Resilience;

/// <summary>
/// Settings of the standard pipeline for internal HttpClients, bound from <c>Resilience:Http</c>
/// (per named client: the same section, then that client's own configure callback).
/// </summary>
/// <remarks>
/// There is deliberately no total-request timeout. The router and workers stream tokens over
/// server-sent events for as long as a generation lasts (minutes for long outputs); a total timeout
/// would cut healthy streams mid-answer. Only the time to response headers is bounded
/// (<see cref="AttemptTimeout"/>), and a client disconnect cancels the whole chain instead.
/// </remarks>
public sealed class HttpStandardResilienceOptions
{
    public const string SectionName = "Resilience:Http";

    /// <summary>Time to establish a TCP/TLS connection (SocketsHttpHandler.ConnectTimeout).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time from sending one attempt until its response headers arrive. Body streaming afterwards is not
    /// bounded. The default equals HttpClient's own 100 s so non-streaming completions are not cut shorter
    /// than without the pipeline.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Retries after the first attempt; 0 disables retrying.</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>First back-off delay; doubles per attempt, with jitter so replicas are not hit in lock-step.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Cap on one back-off delay.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A Retry-After longer than this is not waited for: the response goes back to the caller.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Share of failed attempts within <see cref="SamplingDuration"/> that opens the circuit.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Attempts within <see cref="SamplingDuration"/> before the ratio is trusted.</summary>
    public int MinimumThroughput { get; set; } = 20;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails fast before letting one probe attempt through.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Rejects settings Polly would refuse later, at start-up with the offending name.</summary>
internal sealed class HttpStandardResilienceOptionsValidator : IValidateOptions<HttpStandardResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpStandardResilienceOptions options)
    {
        var failures = new List<string>();
        Check(options.ConnectTimeout > TimeSpan.Zero, "ConnectTimeout must be positive.");
        Check(options.AttemptTimeout >= TimeSpan.FromMilliseconds(10) && options.AttemptTimeout <= TimeSpan.FromDays(1), "AttemptTimeout must be between 10 ms and 1 day.");
        Check(options.MaxRetryAttempts is >= 0 and <= 100, "MaxRetryAttempts must be between 0 and 100.");
        Check(options.RetryBaseDelay >= TimeSpan.Zero && options.RetryBaseDelay <= TimeSpan.FromDays(1), "RetryBaseDelay must be between 0 and 1 day.");
        Check(options.RetryMaxDelay >= options.RetryBaseDelay, "RetryMaxDelay must not be less than RetryBaseDelay.");
        Check(options.MaxRetryAfter >= TimeSpan.Zero, "MaxRetryAfter must not be negative.");
        Check(options.FailureRatio is > 0 and <= 1, "FailureRatio must be in (0, 1].");
        Check(options.MinimumThroughput >= 2, "MinimumThroughput must be at least 2.");
        Check(options.SamplingDuration >= TimeSpan.FromMilliseconds(500), "SamplingDuration must be at least 500 ms.");
        Check(options.BreakDuration >= TimeSpan.FromMilliseconds(500), "BreakDuration must be at least 500 ms.");
        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => $"{HttpStandardResilienceOptions.SectionName} ({(string.IsNullOrEmpty(name) ? "default" : name)}): {f}"));

        void Check(bool condition, string message)
        {
            if (!condition)
            {
                failures.Add(message);
            }
        }
    }
}
