using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Polly.Timeout;

namespace Dynamo.ServiceDefaults.Resilience;

/// <summary>
/// One pipeline per client options name and target authority, kept for the life of the service:
/// HttpClientFactory recycles handlers every two minutes, and a circuit breaker that forgot its state
/// on every recycle would never open. Per authority, so one failing service does not open the circuit
/// for every other service the same client talks to.
/// </summary>
internal sealed partial class HttpResiliencePipelines(
    IOptionsMonitor<HttpStandardResilienceOptions> options,
    TimeProvider timeProvider,
    ILogger<HttpResiliencePipelines> logger) : IDisposable
{
    private readonly ResiliencePipelineRegistry<string> _registry = new();

    public ResiliencePipeline<HttpResponseMessage> Get(string optionsName, Uri? requestUri)
    {
        var authority = requestUri is { IsAbsoluteUri: true } ? requestUri.GetLeftPart(UriPartial.Authority) : "";
        return _registry.GetOrAddPipeline<HttpResponseMessage>(optionsName + "|" + authority, builder =>
            Configure(builder, options.Get(optionsName), authority));
    }

    public void Dispose() => _registry.Dispose();

    private void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, HttpStandardResilienceOptions o, string authority)
    {
        builder.TimeProvider = timeProvider;
        builder.InstanceName = authority;

        // Outermost first: retry → circuit breaker → per-attempt timeout → the request.
        if (o.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = o.MaxRetryAttempts,
                Delay = o.RetryBaseDelay,
                MaxDelay = o.RetryMaxDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(HttpRetryPolicy.ShouldRetry(args.Outcome, args.Context, timeProvider, o.MaxRetryAfter)),
                // Null falls back to the exponential back-off.
                DelayGenerator = args => ValueTask.FromResult(HttpRetryPolicy.RetryAfter(args.Outcome.Result, timeProvider)),
                OnRetry = args =>
                {
                    LogRetry(authority, args.AttemptNumber + 1, args.RetryDelay, Describe(args.Outcome));
                    return default;
                },
            });
        }

        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            FailureRatio = o.FailureRatio,
            MinimumThroughput = o.MinimumThroughput,
            SamplingDuration = o.SamplingDuration,
            BreakDuration = o.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(HttpRetryPolicy.IsTransient(args.Outcome, args.Context.CancellationToken)),
            OnOpened = args =>
            {
                LogCircuitOpened(authority, args.BreakDuration, Describe(args.Outcome));
                return default;
            },
            OnClosed = _ =>
            {
                LogCircuitClosed(authority);
                return default;
            },
        });

        builder.AddTimeout(new TimeoutStrategyOptions { Timeout = o.AttemptTimeout });
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } e ? $"{e.GetType().Name}: {e.Message}" : $"HTTP {(int?)outcome.Result?.StatusCode}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying request to {Authority} (retry {Retry}) in {Delay} after {Reason}.")]
    private partial void LogRetry(string authority, int retry, TimeSpan delay, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Circuit to {Authority} opened for {BreakDuration} after {Reason}.")]
    private partial void LogCircuitOpened(string authority, TimeSpan breakDuration, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit to {Authority} closed.")]
    private partial void LogCircuitClosed(string authority);
}
