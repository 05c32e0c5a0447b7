using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dynamo.Router.Parsers;

public enum ToolChoiceMode { None, Auto, Required, Function }

/// <summary>What the model made of a <c>required</c> or named <c>tool_choice</c>; the router decides how to surface it.</summary>
public enum ToolChoiceOutcome { Satisfied, MissingRequiredCall, WrongFunction }

/// <summary>
/// A request's <c>tool_choice</c> checked against its <c>tools</c>, as OpenAI defines them: tools without a choice
/// mean <c>auto</c>; <c>none</c> parses no calls (the tools may still go to the template); a named function must be
/// one of the tools. Invalid combinations throw <see cref="ToolChoiceException"/> naming the parameter.
/// </summary>
public sealed record ToolChoice(ToolChoiceMode Mode, string? FunctionName = null)
{
    public static ToolChoice None { get; } = new(ToolChoiceMode.None);

    public static ToolChoice Auto { get; } = new(ToolChoiceMode.Auto);

    public static ToolChoice Required { get; } = new(ToolChoiceMode.Required);

    public bool ParsesToolCalls => Mode != ToolChoiceMode.None;

    /// <summary>Resolves the request's raw <c>tools</c> and <c>tool_choice</c> (absent or JSON null: not given).</summary>
    public static ToolChoice Resolve(JsonElement? tools, JsonElement? toolChoice) =>
        Resolve(tools is { ValueKind: not JsonValueKind.Null } t ? FunctionNames(t) : null, toolChoice);

    /// <summary>Resolves <c>tool_choice</c> against the names of the request's functions (null: no <c>tools</c>).</summary>
    public static ToolChoice Resolve(IReadOnlyCollection<string>? toolNames, JsonElement? toolChoice)
    {
        var hasTools = toolNames is { Count: > 0 };
        if (toolChoice is not { ValueKind: not JsonValueKind.Null } choice)
        {
            return hasTools ? Auto : None;
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            var mode = choice.GetString() switch
            {
                "none" => ToolChoiceMode.None,
                "auto" => ToolChoiceMode.Auto,
                "required" => ToolChoiceMode.Required,
                var other => throw new ToolChoiceException(
                    $"Invalid value for 'tool_choice': '{other}'. Expected 'none', 'auto', 'required' or a function."),
            };

            // "none" without tools is harmless (clients send it by default); asking for calls without tools is not.
            if (mode != ToolChoiceMode.None && !hasTools)
            {
                throw new ToolChoiceException($"'tool_choice' is '{choice.GetString()}' but no 'tools' were given.");
            }

            return mode switch { ToolChoiceMode.None => None, ToolChoiceMode.Auto => Auto, _ => Required };
        }

        if (choice.ValueKind != JsonValueKind.Object
            || !choice.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function"
            || !choice.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
            || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || string.IsNullOrEmpty(name.GetString()))
        {
            throw new ToolChoiceException(
                "Invalid 'tool_choice': expected 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": ...}}.");
        }

        var functionName = name.GetString()!;
        if (!hasTools)
        {
            throw new ToolChoiceException($"'tool_choice' names function '{functionName}' but no 'tools' were given.");
        }

        if (!toolNames!.Contains(functionName))
        {
            throw new ToolChoiceException($"'tool_choice' names function '{functionName}', which is not among 'tools'.");
        }

        return new ToolChoice(ToolChoiceMode.Function, functionName);
    }

    /// <summary>The function names of an OpenAI <c>tools</c> array; a malformed one throws naming <c>tools</c>.</summary>
    public static IReadOnlyList<string> FunctionNames(JsonElement tools)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            throw new ToolChoiceException("'tools' must be an array.", "tools");
        }

        var names = new List<string>(tools.GetArrayLength());
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object
                || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function"
                || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || string.IsNullOrEmpty(name.GetString()))
            {
                throw new ToolChoiceException(
                    $"'tools[{i}]' must be {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}.", "tools");
            }

            names.Add(name.GetString()!);
            i++;
        }

        return names;
    }

    /// <summary>Whether the model must call a tool: the output is then decoded under <see cref="GuidedSchema"/>.</summary>
    public bool ForcesCall => Mode is ToolChoiceMode.Required or ToolChoiceMode.Function;

    /// <summary>
    /// The JSON schema a forced call is decoded under (as vLLM does it, so no tool-call markup of the model's is needed):
    /// a named function gives <c>{"name": that name, "arguments": its parameters}</c>; <c>required</c> gives a non-empty
    /// array of such objects, one alternative per tool. Null when the model is not forced to call.
    /// </summary>
    public string? GuidedSchema(JsonElement tools)
    {
        if (!ForcesCall)
        {
            return null;
        }

        var alternatives = new JsonArray();
        foreach (var tool in tools.EnumerateArray())
        {
            var function = tool.GetProperty("function");
            var name = function.GetProperty("name").GetString()!;
            if (Mode == ToolChoiceMode.Function && name != FunctionName)
            {
                continue;
            }

            // OpenAI: a function without parameters takes none, so its arguments are the empty object.
            var parameters = function.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null
                ? JsonNode.Parse(p.GetRawText())
                : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            alternatives.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["name"] = new JsonObject { ["const"] = name }, ["arguments"] = parameters },
                ["required"] = new JsonArray("name", "arguments"),
            });
        }

        if (Mode == ToolChoiceMode.Function)
        {
            return alternatives[0]!.ToJsonString();
        }

        var item = alternatives.Count == 1 ? alternatives[0]!.DeepClone() : new JsonObject { ["anyOf"] = alternatives };
        return new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = item }.ToJsonString();
    }

    /// <summary>Checks a finished choice against this tool choice, given the names of the functions it called.</summary>
    public ToolChoiceOutcome Evaluate(IReadOnlyCollection<string> calledFunctions)
    {
        ArgumentNullException.ThrowIfNull(calledFunctions);
        return Mode switch
        {
            ToolChoiceMode.Required or ToolChoiceMode.Function when calledFunctions.Count == 0 => ToolChoiceOutcome.MissingRequiredCall,
            ToolChoiceMode.Function when calledFunctions.Any(n => n != FunctionName) => ToolChoiceOutcome.WrongFunction,
            _ => ToolChoiceOutcome.Satisfied,
        };
    }
}

/// <summary>An invalid <c>tools</c> / <c>tool_choice</c>; <see cref="ArgumentException.ParamName"/> is the request field.</summary>
public sealed class ToolChoiceException(string message, string parameter = "tool_choice") : ArgumentException(message, parameter)
{
    /// <summary>The message without the " (Parameter ...)" suffix that <see cref="ArgumentException"/> appends.</summary>
    public string Reason { get; } = message;
}
