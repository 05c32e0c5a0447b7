using Dynamo.Gateway.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Gateway.Keys;

/// <summary>
/// Stores <see cref="GatewayOptions.DevelopmentKey"/> as an API key at start, retrying until Redis answers, so a local
/// cluster (whose AppHost generates the key) runs with authentication on.
/// </summary>
internal sealed partial class DevelopmentKeyProvisioner(
    ApiKeyStore keys,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<DevelopmentKeyProvisioner> logger) : BackgroundService
{
    public const string KeyId = "key_development";

    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.DevelopmentKey is not { Length: > 0 } secret)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var added = await keys.ProvisionAsync(secret, KeyId, "development", stoppingToken);
                LogProvisioned(logger, ApiKeySecrets.DisplayPrefix(secret), added ? "stored" : "already present");
                return;
            }
            catch (StatePlaneUnavailableException ex)
            {
                LogWaiting(logger, ex.Message);
                await Task.Delay(s_retryDelay, time, stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Development API key {Prefix}… {Outcome}")]
    private static partial void LogProvisioned(ILogger logger, string prefix, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Development API key not stored yet, retrying: {Reason}")]
    private static partial void LogWaiting(ILogger logger, string reason);
}
