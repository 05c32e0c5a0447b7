using System.ComponentModel.DataAnnotations;

namespace Dynamo.Runtime.StatePlane;

/// <summary>Redis settings (section <c>Dynamo:Redis</c>; the connection string comes from <c>ConnectionStrings:redis</c>).</summary>
public sealed class RedisStateOptions
{
    public const string Section = "Dynamo:Redis";

    /// <summary>StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>. <c>abortConnect=false</c> is always applied.</summary>
    [Required(ErrorMessage = "The Redis connection string is missing: set ConnectionStrings:redis (e.g. 127.0.0.1:6379).")]
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How often registry watchers compare the live leases with what they reported, catching expiries when keyspace
    /// notifications are unavailable and changes missed while Redis was unreachable.
    /// </summary>
    public TimeSpan ReconciliationInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Try <c>CONFIG SET notify-keyspace-events</c> so lease expiry is pushed rather than found by reconciliation.</summary>
    public bool EnableKeyspaceNotifications { get; set; } = true;
}
