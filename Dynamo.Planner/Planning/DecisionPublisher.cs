using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Planning;

/// <summary>
/// Announces each decision on <c>dynamo.{ns}.planner.decisions</c> and appends it to the state plane's capped log for
/// the Admin app. Either side failing is logged and does not stop the planner: the scaling already happened.
/// </summary>
public sealed partial class DecisionPublisher(
    IEventPlane events,
    IStateStore store,
    IOptions<DynamoRuntimeOptions> runtime,
    ILogger<DecisionPublisher> logger)
{
    public async Task PublishAsync(PlannerDecision decision, CancellationToken cancellationToken)
    {
        try
        {
            await events.PublishAsync(Subjects.PlannerDecisions(runtime.Value.Namespace), decision, cancellationToken).ConfigureAwait(false);
        }
        catch (EventPlaneUnavailableException ex)
        {
            LogNotPublished(decision.Id, ex.Message);
        }

        try
        {
            await store.AppendAsync(PlannerDecision.Log, decision, DynamoJsonContext.Default.PlannerDecision, PlannerDecision.LogLength, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (StatePlaneUnavailableException ex)
        {
            LogNotStored(decision.Id, ex.Message);
        }

        LogDecision(decision.Id, decision.Mode, decision.Reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Planner decision {DecisionId} ({Mode}): {Reason}")]
    private partial void LogDecision(string decisionId, string mode, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Planner decision {DecisionId} not published on the event plane: {Reason}")]
    private partial void LogNotPublished(string decisionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Planner decision {DecisionId} not stored in the decision log: {Reason}")]
    private partial void LogNotStored(string decisionId, string reason);
}
