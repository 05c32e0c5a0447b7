using System.Text.Json;
using Dynamo.Router.Routing;
using Dynamo.Router.Routing.Policies;

namespace Dynamo.Router.Api;

/// <summary>
/// Reads the routing knobs of a request's <c>nvext</c> object (Dynamo's extension field) into
/// <see cref="RoutingOverrides"/>. Other <c>nvext</c> fields are Dynamo features this router does not have and are
/// ignored, as Dynamo ignores what it does not know; a known field with a wrong value is a 400 naming it.
/// </summary>
internal static class NvExt
{
    public const string Field = "nvext";

    public static RoutingOverrides? ReadOverrides(JsonElement? nvext)
    {
        if (nvext is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw OpenAiException.Invalid("'nvext' must be an object.", Field);
        }

        var overrides = new RoutingOverrides
        {
            OverlapScoreWeight = Weight(element, "overlap_score_weight"),
            Temperature = Weight(element, "router_temperature"),
            Policy = Policy(element),
            WorkerId = Text(element, "backend_instance_id"),
        };
        return overrides is { OverlapScoreWeight: null, Temperature: null, Policy: null, WorkerId: null } ? null : overrides;
    }

    private static double? Weight(JsonElement nvext, string name)
    {
        if (!nvext.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number) || number < 0)
        {
            throw OpenAiException.Invalid($"'{Field}.{name}' must be a finite number, 0 or more.", $"{Field}.{name}");
        }

        return number;
    }

    private static string? Policy(JsonElement nvext)
    {
        var policy = Text(nvext, "routing_policy");
        if (policy is not null && !RoutingPolicies.All.Contains(policy, StringComparer.Ordinal))
        {
            throw OpenAiException.Invalid(
                $"'{Field}.routing_policy' is '{policy}'; use one of: {string.Join(", ", RoutingPolicies.All)}.", $"{Field}.routing_policy");
        }

        return policy;
    }

    private static string? Text(JsonElement nvext, string name)
    {
        if (!nvext.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && name == "backend_instance_id")
        {
            // Dynamo's instance ids are numbers; this router's worker ids are strings, so accept both spellings.
            return value.GetRawText();
        }

        return value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw OpenAiException.Invalid($"'{Field}.{name}' must be a non-empty string.", $"{Field}.{name}");
    }
}
