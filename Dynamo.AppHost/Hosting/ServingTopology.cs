using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Dynamo.AppHost.Hosting;

/// <summary>
/// How the local cluster serves the model (<c>AppHost:Topology</c>, or <c>--disaggregated</c>): one pool of
/// aggregated workers (the default), or a prefill pool and a decode pool between which the router moves prompts'
/// KV. Read by Program.cs, the composition root, before the topology is declared.
/// </summary>
public sealed record ServingTopology(bool Disaggregated, int? MaxLocalPrefillTokens)
{
    public const string Key = AppHostOptions.SectionName + ":Topology";

    /// <summary>The router's conditional-disaggregation threshold for this cluster (<c>Router:Disaggregation:MaxLocalPrefillTokens</c>).</summary>
    public const string MaxLocalPrefillTokensKey = AppHostOptions.SectionName + ":MaxLocalPrefillTokens";

    public const string AggregatedName = "aggregated";

    public const string DisaggregatedName = "disaggregated";

    /// <exception cref="InvalidOperationException">An unknown topology name or a bad threshold.</exception>
    public static ServingTopology Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var name = configuration[Key];
        var disaggregated = name switch
        {
            null or "" => false,
            _ when string.Equals(name, AggregatedName, StringComparison.OrdinalIgnoreCase) => false,
            _ when string.Equals(name, DisaggregatedName, StringComparison.OrdinalIgnoreCase) => true,
            _ => throw new InvalidOperationException($"{Key} must be '{AggregatedName}' or '{DisaggregatedName}' (was '{name}')."),
        };

        int? threshold = null;
        if (configuration[MaxLocalPrefillTokensKey] is { Length: > 0 } text)
        {
            threshold = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= 10_000_000
                ? value
                : throw new InvalidOperationException($"{MaxLocalPrefillTokensKey} must be a whole number between 0 and 10000000 (was '{text}').");
        }

        return new ServingTopology(disaggregated, threshold);
    }
}
