using Dynamo.Router.Hosting;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Models;

/// <summary>
/// Keeps this router in its model's card, which is how the gateway finds routers: adds its URL once Kestrel is
/// listening, re-adds it every <see cref="RouterOptions.CardRefreshSeconds"/> (repairing a card that a Redis restart
/// or a racing replica lost), and takes it out at shutdown. Replicas of one model share the card: each merges its
/// own URL into the list rather than replacing it. Changes are announced on <see cref="Subjects.ModelsChanged"/>.
/// </summary>
public sealed partial class ModelCardPublisher(
    RouterModel model,
    WorkerPool pool,
    IModelRegistry registry,
    IEventPlane events,
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<RouterOptions> options,
    IOptions<DynamoRuntimeOptions> runtime,
    TimeProvider time,
    ILogger<ModelCardPublisher> logger) : BackgroundService
{
    private IReadOnlyList<string> _endpoints = [];

    /// <summary>The URLs this router advertises (known once the server has started).</summary>
    public IReadOnlyList<string> Endpoints => _endpoints;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_endpoints.Count == 0)
        {
            return;
        }

        try
        {
            var card = await registry.GetAsync(options.Value.Model, cancellationToken).ConfigureAwait(false);
            if (card is null)
            {
                return;
            }

            var remaining = card.RouterEndpoints.Where(e => !_endpoints.Contains(e, StringComparer.OrdinalIgnoreCase)).ToList();
            if (remaining.Count == 0)
            {
                await registry.RemoveAsync(card.Name, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                card = card with { RouterEndpoints = remaining, UpdatedAt = time.GetUtcNow() };
                await registry.SetAsync(card, cancellationToken).ConfigureAwait(false);
            }

            await AnnounceAsync(card with { RouterEndpoints = remaining }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StatePlaneUnavailableException or OperationCanceledException)
        {
            LogCardFailed(ex);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        _endpoints = AdvertisedEndpoints();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.CardRefreshSeconds), time);
        try
        {
            do
            {
                await RefreshAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            var served = model.Model;
            var existing = await registry.GetAsync(served.Name, cancellationToken).ConfigureAwait(false);
            var merged = (existing?.RouterEndpoints ?? []).Union(_endpoints, StringComparer.OrdinalIgnoreCase).ToList();
            var blockSize = pool.Workers.FirstOrDefault()?.Registration.BlockSize ?? options.Value.KvBlockSize;
            var changed = existing is null
                || merged.Count != existing.RouterEndpoints.Count
                || existing.ContextLength != served.ContextLength
                || existing.KvBlockSize != blockSize;
            var card = (existing ?? new ModelCard(served.Name, merged, served.ContextLength, blockSize, time.GetUtcNow())) with
            {
                RouterEndpoints = merged,
                ContextLength = served.ContextLength,
                KvBlockSize = blockSize,
                UpdatedAt = time.GetUtcNow(),
            };
            await registry.SetAsync(card, cancellationToken).ConfigureAwait(false);
            if (changed)
            {
                LogCardPublished(served.Name, string.Join(", ", merged));
                await AnnounceAsync(card, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StatePlaneUnavailableException ex)
        {
            LogCardFailed(ex);
        }
    }

    private async Task AnnounceAsync(ModelCard card, CancellationToken cancellationToken)
    {
        try
        {
            await events.PublishAsync(Subjects.ModelsChanged(runtime.Value.Namespace), card, cancellationToken).ConfigureAwait(false);
        }
        catch (EventPlaneUnavailableException ex)
        {
            // Gateways also re-read the registry; the notice only makes them notice sooner.
            LogAnnounceFailed(ex);
        }
    }

    private string[] AdvertisedEndpoints()
    {
        if (options.Value.AdvertisedUrl is { Length: > 0 } configured)
        {
            return configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return [.. addresses.Select(Reachable).Where(a => a is not null).Select(a => a!)];
    }

    // Kestrel reports wildcard bindings as http://[::]:port or http://0.0.0.0:port; advertise them on loopback.
    private static string? Reachable(string address)
    {
        var fixedHost = address.Replace("://*", "://localhost").Replace("://+", "://localhost");
        if (!Uri.TryCreate(fixedHost, UriKind.Absolute, out var uri))
        {
            return null;
        }

        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        return $"{uri.Scheme}://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host)}:{uri.Port}";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model card {Model} now lists routers {Endpoints}")]
    private partial void LogCardPublished(string model, string endpoints);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not update the model card; retrying at the next refresh")]
    private partial void LogCardFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not announce the model card change on the event plane")]
    private partial void LogAnnounceFailed(Exception exception);
}
