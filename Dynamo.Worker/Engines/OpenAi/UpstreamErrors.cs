using System.Text.Json;

namespace Dynamo.Worker.Engines.OpenAi;

/// <summary>Reads the error message out of the shapes OpenAI-compatible servers use.</summary>
internal static class UpstreamErrors
{
    /// <summary>
    /// OpenAI and llama.cpp: <c>{"error": {"message": ...}}</c>; older vLLM: <c>{"object": "error", "message": ...}</c>;
    /// some servers: <c>{"error": "text"}</c> or <c>{"detail": ...}</c> (FastAPI).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<char> json, out string message)
    {
        message = "";
        var trimmed = json.TrimStart();
        if (trimmed.IsEmpty || trimmed[0] != '{' || (!json.Contains("\"error\"", StringComparison.Ordinal) && !json.Contains("\"detail\"", StringComparison.Ordinal)))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(json.ToString());
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                message = error.ValueKind switch
                {
                    JsonValueKind.String => error.GetString() ?? "",
                    JsonValueKind.Object when error.TryGetProperty("message", out var m) => m.ToString(),
                    _ => error.GetRawText(),
                };
                return true;
            }

            if (root.TryGetProperty("object", out var kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() == "error")
            {
                message = root.TryGetProperty("message", out var m) ? m.ToString() : root.GetRawText();
                return true;
            }

            if (root.TryGetProperty("detail", out var detail))
            {
                message = detail.ToString();
                return true;
            }
        }
        catch (JsonException)
        {
            return false;
        }

        return false;
    }

    /// <summary>The message of an error body, or the body itself (shortened) when it is not JSON.</summary>
    public static string Describe(string body)
    {
        if (TryRead(body, out var message) && message.Length > 0)
        {
            return message;
        }

        var text = body.Trim();
        return text.Length == 0 ? "(empty body)" : text.Length <= 500 ? text : string.Concat(text.AsSpan(0, 500), "...");
    }
}
