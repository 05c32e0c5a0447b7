namespace Dynamo.Admin.Hosting;

/// <summary>Operator sign-in and the addresses/secrets the Admin app needs (section <c>Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>Operator user name.</summary>
    public string? Username { get; set; }

    /// <summary>PBKDF2 hash of the operator password (<see cref="Auth.OperatorPassword.Hash"/>); preferred over <see cref="Password"/>.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>The operator password itself, for a secret store or the AppHost's generated local credentials.</summary>
    public string? Password { get; set; }

    /// <summary>Bearer secret of the gateway's admin API (<c>/admin/keys</c>); the AppHost passes its run's key.</summary>
    public string? GatewayAdminKey { get; set; }

    /// <summary>Minutes of history the Overview charts keep.</summary>
    public int HistoryMinutes { get; set; } = 5;

    /// <summary>Seconds after which a router's or worker's last metrics no longer count as live.</summary>
    public int StaleAfterSeconds { get; set; } = 10;

    public bool HasCredentials => !string.IsNullOrEmpty(Username) && (!string.IsNullOrEmpty(PasswordHash) || !string.IsNullOrEmpty(Password));
}
