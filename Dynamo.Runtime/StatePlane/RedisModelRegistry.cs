using Dynamo.Runtime.Contracts;
using StackExchange.Redis;

namespace Dynamo.Runtime.StatePlane;

/// <summary>Model cards in one Redis hash (name → card JSON); every change is announced on the models channel.</summary>
internal sealed class RedisModelRegistry(RedisConnection redis, StateKeys keys, IWorkerRegistry workers) : IModelRegistry
{
    public Task SetAsync(ModelCard card, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentException.ThrowIfNullOrWhiteSpace(card.Name, nameof(card));
        return RedisConnection.GuardAsync(async () =>
        {
            var database = await redis.DatabaseAsync().ConfigureAwait(false);
            await database.HashSetAsync(keys.Models, card.Name, ContractSerializer.Serialize(card)).ConfigureAwait(false);
            await database.PublishAsync(keys.ModelChanges, card.Name).ConfigureAwait(false);
            return true;
        }, $"set model {card.Name}");
    }

    public Task<ModelCard?> GetAsync(string model, CancellationToken cancellationToken = default) =>
        RedisConnection.GuardAsync(async () =>
        {
            var value = await (await redis.DatabaseAsync().ConfigureAwait(false)).HashGetAsync(keys.Models, model).ConfigureAwait(false);
            return value.IsNull ? null : ContractSerializer.Deserialize<ModelCard>((byte[])value!);
        }, $"get model {model}");

    public Task<IReadOnlyList<ModelCard>> ListAsync(CancellationToken cancellationToken = default) =>
        RedisConnection.GuardAsync(async () =>
        {
            var entries = await (await redis.DatabaseAsync().ConfigureAwait(false)).HashGetAllAsync(keys.Models).ConfigureAwait(false);
            var cards = new List<ModelCard>(entries.Length);
            foreach (var entry in entries)
            {
                cards.Add(ContractSerializer.Deserialize<ModelCard>((byte[])entry.Value!));
            }

            cards.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return (IReadOnlyList<ModelCard>)cards;
        }, "list models");

    public Task<bool> RemoveAsync(string model, CancellationToken cancellationToken = default) =>
        RedisConnection.GuardAsync(async () =>
        {
            var database = await redis.DatabaseAsync().ConfigureAwait(false);
            var removed = await database.HashDeleteAsync(keys.Models, model).ConfigureAwait(false);
            if (removed)
            {
                await database.PublishAsync(keys.ModelChanges, model).ConfigureAwait(false);
            }

            return removed;
        }, $"remove model {model}");

    public async Task<IReadOnlyList<WorkerRegistration>> GetWorkersAsync(string model, CancellationToken cancellationToken = default)
    {
        var listing = await workers.ListAsync(cancellationToken).ConfigureAwait(false);
        return listing.Workers.Where(w => string.Equals(w.Model, model, StringComparison.Ordinal)).ToList();
    }
}
