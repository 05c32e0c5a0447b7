using System.Threading.Channels;

namespace Dynamo.Worker.Scheduling;

/// <summary>
/// What the generate API submits to: the in-process <see cref="Scheduler"/> (native and mocker engines) or an
/// adapter to an engine running elsewhere (<c>Worker:Engine = openai</c>). The worker's host exposes the active one.
/// </summary>
public interface IGenerationBackend
{
    /// <summary>Requests generating now.</summary>
    int Running { get; }

    /// <summary>Requests accepted but not started yet.</summary>
    int Waiting { get; }

    /// <summary>
    /// True when <see cref="Submit"/> returning already means the request was accepted, so the API may send its
    /// response headers at once. False for a remote engine, which can still refuse the request (its status code is
    /// carried by <see cref="GenerationRejectedException"/> as the stream's error before any output).
    /// </summary>
    bool AcceptsOnSubmit { get; }

    /// <summary>
    /// Queues a request and returns its token stream; the last output carries the finish reason. The stream ends
    /// with <see cref="OperationCanceledException"/> once <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <exception cref="SchedulerFullException">The waiting queue is at capacity.</exception>
    ChannelReader<SchedulerOutput> Submit(SchedulerRequest request, CancellationToken cancellationToken = default);
}

/// <summary>
/// A backend refused a request before producing any output; the API answers with <see cref="StatusCode"/> and
/// this message in OpenAI's error shape.
/// </summary>
public sealed class GenerationRejectedException(int statusCode, string message, string errorType, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public int StatusCode { get; } = statusCode;

    /// <summary>OpenAI's error <c>type</c> (invalid_request_error, server_error, service_unavailable, ...).</summary>
    public string ErrorType { get; } = errorType;

    /// <summary>Sent as Retry-After when set.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
