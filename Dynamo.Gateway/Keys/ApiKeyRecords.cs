namespace Dynamo.Gateway.Keys;

/// <summary>
/// An API key as stored (state collection <c>api-keys</c>, id = <see cref="Hash"/>): the SHA-256 of the secret, never
/// the secret. Revoked keys stay listed with <see cref="Revoked"/> set.
/// </summary>
public sealed record ApiKeyRecord(
    string Id,
    string Name,
    string Prefix,
    string Hash,
    DateTimeOffset Created,
    int? RequestsPerMinute,
    int? TokensPerMinute,
    DateTimeOffset? Revoked = null)
{
    public bool IsRevoked => Revoked is not null;

    public ApiKeyInfo ToInfo() => new(Id, Name, Prefix, Created, RequestsPerMinute, TokensPerMinute, Revoked);
}

/// <summary>A key as the admin API lists it: no secret, no hash.</summary>
public sealed record ApiKeyInfo(
    string Id,
    string Name,
    string Prefix,
    DateTimeOffset Created,
    int? RequestsPerMinute,
    int? TokensPerMinute,
    DateTimeOffset? Revoked);

/// <summary>Body of <c>POST /admin/keys</c>; unset limits fall back to the gateway's defaults.</summary>
public sealed record CreateKeyRequest(string? Name, int? RequestsPerMinute, int? TokensPerMinute);

/// <summary>Answer of <c>POST /admin/keys</c>: the only time the secret is shown.</summary>
public sealed record CreatedKey(string Key, ApiKeyInfo Info);

public sealed record KeyList(IReadOnlyList<ApiKeyInfo> Data)
{
    public string Object { get; init; } = "list";
}
