using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Dynamo.ServiceDefaults.Discovery;

/// <summary>
/// Reads endpoints from configuration section <c>services:{name}:{endpoint}:{index}</c>, Aspire's
/// convention for references (environment variable <c>services__router__http__0</c>). Results are
/// cached and the cache is dropped whenever configuration reloads, so replica changes are picked up.
/// </summary>
internal sealed class ConfigurationServiceEndpointResolver : IServiceEndpointResolver, IDisposable
{
    public const string SectionName = "services";

    /// <summary>Cache entries before it is dropped; bounds memory when many distinct external hosts pass through.</summary>
    private const int MaxCachedNames = 1024;

    private readonly IConfiguration _configuration;
    private readonly IDisposable _reloadRegistration;
    private ConcurrentDictionary<string, EndpointSet> _cache = NewCache();

    public ConfigurationServiceEndpointResolver(IConfiguration configuration)
    {
        _configuration = configuration;
        _reloadRegistration = ChangeToken.OnChange(configuration.GetReloadToken, () => Volatile.Write(ref _cache, NewCache()));
    }

    public IReadOnlyList<Uri> GetEndpoints(string serviceName, string endpointName = "http")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        ArgumentException.ThrowIfNullOrWhiteSpace(endpointName);
        return GetSet(serviceName, endpointName).Endpoints;
    }

    public bool TryResolve(Uri logicalUri, [NotNullWhen(true)] out Uri? resolved)
    {
        ArgumentNullException.ThrowIfNull(logicalUri);
        resolved = null;
        if (!logicalUri.IsAbsoluteUri || (!logicalUri.IsDefaultPort && logicalUri.Port > 0))
        {
            // An explicit port means a physical address, not a service name.
            return false;
        }

        var host = logicalUri.Host;
        string? namedEndpoint = null;
        if (host.StartsWith('_') && host.IndexOf('.', StringComparison.Ordinal) is var dot and > 1)
        {
            namedEndpoint = host[1..dot];
            host = host[(dot + 1)..];
        }

        string[] endpointNames = namedEndpoint is not null ? [namedEndpoint] : logicalUri.Scheme switch
        {
            "https+http" => ["https", "http"],
            "http+https" => ["http", "https"],
            var scheme => [scheme],
        };

        foreach (var endpointName in endpointNames)
        {
            if (GetSet(host, endpointName).Next() is { } endpoint)
            {
                resolved = Combine(endpoint, logicalUri);
                return true;
            }
        }

        if (logicalUri.Scheme.Contains('+', StringComparison.Ordinal) || namedEndpoint is not null)
        {
            // These forms only make sense for configured services; passing them on would fail obscurely.
            throw new InvalidOperationException(
                $"No endpoints are configured for service '{host}' ({string.Join(" or ", endpointNames)}); expected configuration '{SectionName}:{host}:{endpointNames[0]}:0'.");
        }

        return false;
    }

    public void Dispose() => _reloadRegistration.Dispose();

    private EndpointSet GetSet(string serviceName, string endpointName)
    {
        var cache = Volatile.Read(ref _cache);
        var key = serviceName + "/" + endpointName;
        if (cache.TryGetValue(key, out var set))
        {
            return set;
        }

        if (cache.Count >= MaxCachedNames)
        {
            cache = NewCache();
            Volatile.Write(ref _cache, cache);
        }

        return cache.GetOrAdd(key, _ => Load(serviceName, endpointName));
    }

    private EndpointSet Load(string serviceName, string endpointName)
    {
        var section = _configuration.GetSection(SectionName).GetSection(serviceName).GetSection(endpointName);
        var entries = new List<(int Index, string Key, Uri Uri)>();
        foreach (var child in section.GetChildren())
        {
            if (string.IsNullOrWhiteSpace(child.Value))
            {
                continue;
            }

            var index = int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue;
            entries.Add((index, child.Key, ParseEndpoint(child.Value, endpointName, child.Path)));
        }

        entries.Sort(static (a, b) => a.Index != b.Index ? a.Index.CompareTo(b.Index) : string.CompareOrdinal(a.Key, b.Key));
        return new EndpointSet([.. entries.Select(static e => e.Uri)]);
    }

    private static Uri ParseEndpoint(string value, string endpointName, string path)
    {
        // Aspire writes full URLs; "host:port" is accepted too, using the endpoint's scheme.
        var text = value.Contains("://", StringComparison.Ordinal) ? value : $"{(IsHttpScheme(endpointName) ? endpointName : "http")}://{value}";
        return Uri.TryCreate(text, UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Configuration '{path}' = '{value}' is not a valid endpoint URL.");
    }

    private static Uri Combine(Uri endpoint, Uri logical)
    {
        var basePath = endpoint.AbsolutePath.TrimEnd('/');
        return new Uri(endpoint.GetLeftPart(UriPartial.Authority) + basePath + logical.PathAndQuery + logical.Fragment);
    }

    private static bool IsHttpScheme(string scheme) => scheme is "http" or "https";

    private static ConcurrentDictionary<string, EndpointSet> NewCache() => new(StringComparer.OrdinalIgnoreCase);

    private sealed class EndpointSet(Uri[] endpoints)
    {
        private int _next = -1;

        public Uri[] Endpoints { get; } = endpoints;

        public Uri? Next() => Endpoints.Length switch
        {
            0 => null,
            1 => Endpoints[0],
            _ => Endpoints[(int)((uint)Interlocked.Increment(ref _next) % (uint)Endpoints.Length)],
        };
    }
}
