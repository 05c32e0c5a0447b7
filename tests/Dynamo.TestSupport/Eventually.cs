namespace Dynamo.TestSupport;

/// <summary>
/// Polls a condition that background work (NATS delivery, Redis notifications, a child process) makes true. The bound
/// is a failure limit, never a performance claim: a condition still false after it fails the test.
/// </summary>
public static class Eventually
{
    public const int DefaultSeconds = 20;

    /// <summary>The default bound, also for one-off waits (<c>task.WaitAsync(Eventually.Limit)</c>).</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(DefaultSeconds);

    /// <exception cref="TimeoutException">The condition stayed false for <paramref name="seconds"/>.</exception>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, int seconds = DefaultSeconds)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = TimeSpan.FromSeconds(seconds);
        using var timeout = new CancellationTokenSource(limit);
        while (!await condition().ConfigureAwait(false))
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"Not true within {limit.TotalSeconds:0} s: {what}");
            }

            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <exception cref="TimeoutException">The condition stayed false for <paramref name="seconds"/>.</exception>
    public static Task TrueAsync(Func<bool> condition, string what, int seconds = DefaultSeconds)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return TrueAsync(() => Task.FromResult(condition()), what, seconds);
    }
}
