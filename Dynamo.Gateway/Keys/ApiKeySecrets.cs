using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Dynamo.Gateway.Keys;

/// <summary>Generates key secrets and the hashes they are stored and looked up by.</summary>
public static class ApiKeySecrets
{
    public const string SecretPrefix = "dyn-";

    /// <summary>Characters of the secret kept for display (enough to tell keys apart, far too few to guess the rest).</summary>
    public const int DisplayPrefixLength = 10;

    /// <summary><c>dyn-</c> + 32 random bytes in base64url (256 bits: hashing without a salt is safe at this entropy).</summary>
    public static string NewSecret() => SecretPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string NewId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Lower-case hex SHA-256 of the UTF-8 secret.</summary>
    public static string Hash(string secret)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), hash);
        return Convert.ToHexStringLower(hash);
    }

    public static string DisplayPrefix(string secret) => secret.Length <= DisplayPrefixLength ? secret : secret[..DisplayPrefixLength];

    /// <summary>Compares two secrets in time independent of where they differ (for the admin key).</summary>
    public static bool SecretEquals(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    /// <summary>The token of an <c>Authorization: Bearer …</c> header, or null.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.Length <= scheme.Length || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header.AsSpan(scheme.Length).Trim();
        return token.IsEmpty ? null : token.ToString();
    }
}
