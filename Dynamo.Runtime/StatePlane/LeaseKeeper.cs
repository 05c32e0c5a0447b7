using Dynamo.Runtime.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dynamo.Runtime.StatePlane;

/// <summary>
/// Holds a worker's registry lease: registers at start, renews every third of the TTL, re-registers when the lease
/// was lost (expired while Redis was unreachable, or Redis restarted empty), and unregisters on shutdown so a
/// draining worker stops receiving new requests at once.
/// </summary>
public sealed class LeaseKeeper(
    IWorkerRegistry registry,
    WorkerRegistration registration,
    TimeSpan ttl,
    TimeProvider time,
    ILogger<LeaseKeeper> logger) : BackgroundService
{
    private volatile bool _registered;

    public WorkerRegistration Registration { get; } = registration;

    public TimeSpan Ttl { get; } = ttl > TimeSpan.Zero ? ttl : throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "The lease TTL must be positive.");

    /// <summary>True once the lease was created and the last renewal found it alive.</summary>
    public bool IsRegistered => _registered;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await registry.UnregisterAsync(Registration.WorkerId, cancellationToken).ConfigureAwait(false);
        }
        catch (StatePlaneUnavailableException ex)
        {
            // The lease expires on its own within the TTL.
            StatePlaneLog.RenewalFailed(logger, Registration.WorkerId, ex);
        }

        _registered = false;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await BeatAsync(stoppingToken).ConfigureAwait(false);

        // Three renewals per TTL: one lost heartbeat does not lose the lease.
        using var timer = new PeriodicTimer(Ttl / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await BeatAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_registered && await registry.RenewAsync(Registration.WorkerId, Ttl, cancellationToken).ConfigureAwait(false))
            {
                RuntimeMetrics.LeaseRenewals.Add(1);
                return;
            }

            await registry.RegisterAsync(Registration, Ttl, cancellationToken).ConfigureAwait(false);
            _registered = true;
        }
        catch (StatePlaneUnavailableException ex)
        {
            RuntimeMetrics.LeaseRenewalFailures.Add(1);
            StatePlaneLog.RenewalFailed(logger, Registration.WorkerId, ex);
        }
    }
}
