using Dynamo.Runtime.Contracts;

namespace Dynamo.Runtime.StatePlane;

/// <summary>Served models: model name → model card (routers, limits); workers come from <see cref="IWorkerRegistry"/>.</summary>
public interface IModelRegistry
{
    /// <summary>Adds or replaces the card of <see cref="ModelCard.Name"/>.</summary>
    Task SetAsync(ModelCard card, CancellationToken cancellationToken = default);

    Task<ModelCard?> GetAsync(string model, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ModelCard>> ListAsync(CancellationToken cancellationToken = default);

    Task<bool> RemoveAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Live workers serving <paramref name="model"/>.</summary>
    Task<IReadOnlyList<WorkerRegistration>> GetWorkersAsync(string model, CancellationToken cancellationToken = default);
}
