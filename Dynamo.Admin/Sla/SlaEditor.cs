using Dynamo.Admin.Live;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Admin.Sla;

/// <summary>Outcome of a save: the stored configuration, or every validation problem as (field, message).</summary>
public sealed record SlaSaveResult(SlaConfig? Saved, IReadOnlyList<(string Field, string Message)> Errors)
{
    public bool Succeeded => Saved is not null;
}

/// <summary>
/// Reads and writes the SLA the planner applies: validated with <see cref="SlaConfig.Validate"/>, stored in the state
/// plane, then announced on <c>sla.changed</c> so the planner (and this app's own view) pick it up at once.
/// </summary>
public sealed partial class SlaEditor(
    IStateStore store,
    IEventPlane events,
    ClusterState state,
    IOptions<DynamoRuntimeOptions> runtime,
    TimeProvider time,
    ILogger<SlaEditor> logger)
{
    public async Task<SlaConfig> LoadAsync(CancellationToken cancellationToken = default) =>
        await store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig, cancellationToken)
        ?? SlaConfig.Default;

    public async Task<SlaSaveResult> SaveAsync(SlaConfig proposed, string operatorName, CancellationToken cancellationToken = default)
    {
        var errors = proposed.Validate();
        if (errors.Count > 0)
        {
            return new SlaSaveResult(null, errors);
        }

        var saved = proposed with { UpdatedAt = time.GetUtcNow(), UpdatedBy = operatorName };
        await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId, saved, DynamoJsonContext.Default.SlaConfig, cancellationToken);
        state.Apply(saved);
        try
        {
            await events.PublishAsync(Subjects.SlaChanged(runtime.Value.Namespace), ContractSerializer.Serialize(saved), cancellationToken);
        }
        catch (EventPlaneUnavailableException ex)
        {
            // Stored is what counts: the planner re-reads the SLA every interval, the announcement only makes it immediate.
            LogAnnounceFailed(ex);
        }

        LogSaved(operatorName, saved.TtftMs, saved.ItlMs);
        return new SlaSaveResult(saved, []);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SLA saved by {Operator}: TTFT {TtftMs} ms, ITL {ItlMs} ms")]
    private partial void LogSaved(string @operator, double ttftMs, double itlMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SLA stored, but announcing it on NATS failed; the planner will read it on its next interval")]
    private partial void LogAnnounceFailed(Exception ex);
}
