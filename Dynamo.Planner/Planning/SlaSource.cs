using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;

namespace Dynamo.Planner.Planning;

/// <summary>
/// The SLA targets the planner applies: read from the state plane before every decision (and when Admin announces a
/// change), seeded with <see cref="SlaConfig.Default"/> when nothing is stored. A stored configuration that fails
/// validation, or a state plane that cannot be read, leaves the last valid one in force.
/// </summary>
public sealed partial class SlaSource(IStateStore store, ILogger<SlaSource> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _lastRejected;

    public SlaConfig Current { get; private set; } = SlaConfig.Default;

    public async Task<SlaConfig> RefreshAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = await store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig, cancellationToken)
                .ConfigureAwait(false);
            if (stored is null)
            {
                await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId, SlaConfig.Default, DynamoJsonContext.Default.SlaConfig, cancellationToken)
                    .ConfigureAwait(false);
                LogSeeded(SlaConfig.Default.TtftMs, SlaConfig.Default.ItlMs);
                Current = SlaConfig.Default;
                return Current;
            }

            var errors = stored.Validate();
            if (errors.Count > 0)
            {
                var message = string.Join(" ", errors.Select(e => e.Message));
                if (message != _lastRejected)
                {
                    _lastRejected = message;
                    LogRejected(message);
                }

                return Current;
            }

            _lastRejected = null;
            // Records holding dictionaries compare the dictionaries by reference; compare what was stored instead.
            if (!System.Text.Json.JsonSerializer.Serialize(stored, DynamoJsonContext.Default.SlaConfig)
                    .Equals(System.Text.Json.JsonSerializer.Serialize(Current, DynamoJsonContext.Default.SlaConfig), StringComparison.Ordinal))
            {
                LogApplied(stored.TtftMs, stored.ItlMs, stored.UpdatedBy ?? "unknown");
            }

            Current = stored;
            return Current;
        }
        catch (Exception ex) when (ex is StatePlaneUnavailableException or TimeoutException or System.Text.Json.JsonException)
        {
            LogUnreadable(ex.Message);
            return Current;
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No SLA stored; seeded the defaults (TTFT {TtftMs} ms, ITL {ItlMs} ms)")]
    private partial void LogSeeded(double ttftMs, double itlMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying SLA: TTFT {TtftMs} ms, ITL {ItlMs} ms (updated by {UpdatedBy})")]
    private partial void LogApplied(double ttftMs, double itlMs, string updatedBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stored SLA rejected, keeping the last valid one: {Errors}")]
    private partial void LogRejected(string errors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SLA could not be read, keeping the last valid one: {Reason}")]
    private partial void LogUnreadable(string reason);
}
