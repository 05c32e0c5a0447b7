namespace Dynamo.Worker.Scheduling;

public sealed partial class Scheduler : IGenerationBackend
{
    /// <summary>A submitted request only waits for capacity here; nothing can refuse it later.</summary>
    bool IGenerationBackend.AcceptsOnSubmit => true;
}
