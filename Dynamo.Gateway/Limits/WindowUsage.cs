namespace Dynamo.Gateway.Limits;

/// <summary>
/// One key's usage in one one-minute window as this replica sees it: the totals Redis last reported (every replica's
/// counts, ours included up to the last sync) plus what this replica has counted since. Admission decides on the
/// sum, without a round trip; <see cref="KeyRateLimiter.SyncAsync"/> moves the local counts to Redis and reads the
/// totals back.
/// </summary>
internal sealed class WindowUsage(string keyId, long minute, string collection)
{
    private readonly Lock _gate = new();
    private long _requestsTotal;
    private long _requestsPending;
    private long _tokensTotal;
    private long _tokensPending;
    private Task? _seeded;

    public string KeyId { get; } = keyId;

    public long Minute { get; } = minute;

    /// <summary>The Redis counter collection of the window (<c>gateway-usage-{minute}</c>).</summary>
    public string Collection { get; } = collection;

    /// <summary>The first read of the window's totals; later admissions of the key wait for nothing.</summary>
    public Task EnsureSeeded(Func<WindowUsage, Task> seed)
    {
        lock (_gate)
        {
            return _seeded ??= seed(this);
        }
    }

    /// <summary>Counts one request when both limits allow it (0 = unlimited); otherwise names the limit that refused.</summary>
    public string? TryAdmit(int requestLimit, int tokenLimit)
    {
        lock (_gate)
        {
            if (requestLimit > 0 && _requestsTotal + _requestsPending + 1 > requestLimit)
            {
                return "requests";
            }

            if (tokenLimit > 0 && _tokensTotal + _tokensPending >= tokenLimit)
            {
                return "tokens";
            }

            _requestsPending += requestLimit > 0 ? 1 : 0;
            return null;
        }
    }

    public void AddTokens(long tokens)
    {
        lock (_gate)
        {
            _tokensPending += tokens;
        }
    }

    /// <summary>Takes the counts not yet in Redis (they are put back with <see cref="Restore"/> if the sync fails).</summary>
    public (long Requests, long Tokens) TakePending()
    {
        lock (_gate)
        {
            var pending = (_requestsPending, _tokensPending);
            _requestsPending = 0;
            _tokensPending = 0;
            return pending;
        }
    }

    public void Restore(long requests, long tokens)
    {
        lock (_gate)
        {
            _requestsPending += requests;
            _tokensPending += tokens;
        }
    }

    /// <summary>
    /// Totals Redis reported (after the taken counts were added, so they include them). A window's totals only grow, so an
    /// older read that lands after a newer one changes nothing.
    /// </summary>
    public void SetTotals(long requests, long tokens)
    {
        lock (_gate)
        {
            _requestsTotal = Math.Max(_requestsTotal, requests);
            _tokensTotal = Math.Max(_tokensTotal, tokens);
        }
    }
}
