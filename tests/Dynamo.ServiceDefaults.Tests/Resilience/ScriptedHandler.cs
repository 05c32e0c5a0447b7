using System.Net;

namespace Dynamo.ServiceDefaults.Tests.Resilience;

/// <summary>A primary handler that plays a script of outcomes, one per attempt (the last one repeats), and records every attempt.</summary>
internal sealed class ScriptedHandler(params Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>[] steps) : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<Uri?> _attempts = [];

    public TaskCompletionSource FirstAttemptStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Attempts
    {
        get { lock (_gate) { return _attempts.Count; } }
    }

    public IReadOnlyList<Uri?> AttemptUris
    {
        get { lock (_gate) { return [.. _attempts]; } }
    }

    public static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Status(HttpStatusCode status, TimeSpan? retryAfter = null) =>
        (_, _) =>
        {
            var response = new HttpResponseMessage(status) { Content = new StringContent(status.ToString()) };
            if (retryAfter is { } delay)
            {
                response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
            }

            return Task.FromResult(response);
        };

    public static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Throw(Exception exception) =>
        (_, _) => Task.FromException<HttpResponseMessage>(exception);

    public static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Hang() =>
        async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        };

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        int attempt;
        lock (_gate)
        {
            attempt = _attempts.Count;
            _attempts.Add(request.RequestUri);
        }

        if (request.Content is not null)
        {
            // Like a real handler: serialising the body consumes non-replayable content.
            await request.Content.CopyToAsync(Stream.Null, cancellationToken);
        }

        FirstAttemptStarted.TrySetResult();
        var response = await steps[Math.Min(attempt, steps.Length - 1)](request, cancellationToken);
        response.RequestMessage = request;
        return response;
    }
}
