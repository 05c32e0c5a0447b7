namespace Dynamo.Planner.Tests;

/// <summary>Bounded waits for asynchronous outcomes; the bound is a failure limit, never a performance claim.</summary>
internal static class Eventually
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Limit);
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Not true within {Limit}: {what}");
            }

            await Task.Delay(20);
        }
    }

    public static Task TrueAsync(Func<bool> condition, string what) => TrueAsync(() => Task.FromResult(condition()), what);
}
