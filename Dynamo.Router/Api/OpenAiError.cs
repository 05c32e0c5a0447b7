using System.Globalization;
using System.Text.Json;
using Dynamo.Runtime.Generation;

namespace Dynamo.Router.Api;

/// <summary>A request fails with OpenAI's error shape and this status; thrown by validation, caught by the endpoints.</summary>
internal sealed class OpenAiException(int status, string message, string type, string? param = null, string? code = null, TimeSpan? retryAfter = null)
    : Exception(message)
{
    public int Status { get; } = status;

    public ApiError Error { get; } = new(message, type, param, code);

    public TimeSpan? RetryAfter { get; } = retryAfter;

    public static OpenAiException Invalid(string message, string? param, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    public static OpenAiException From(int status, ApiError error, TimeSpan? retryAfter = null) =>
        new(status, error.Message, error.Type, error.Param, error.Code, retryAfter);
}

internal static class OpenAiErrors
{
    /// <summary>Writes the error envelope (and Retry-After when given); the response must not have started.</summary>
    public static async Task WriteAsync(HttpContext context, OpenAiException error)
    {
        context.Response.StatusCode = error.Status;
        if (error.RetryAfter is { } retry)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, ErrorResponse.From(error.Error), RouterJsonContext.Default.ErrorResponse,
            context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Reads a JSON body into <typeparamref name="T"/>; malformed JSON and wrong types become 400s naming the field.</summary>
    public static async Task<(JsonDocument Document, T Value)> ReadBodyAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw OpenAiException.Invalid($"The request body is not valid JSON: {ex.Message}", null);
        }

        try
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw OpenAiException.Invalid("The request body must be a JSON object.", null);
            }

            var value = document.RootElement.Deserialize(type) ?? throw OpenAiException.Invalid("The request body must be a JSON object.", null);
            return (document, value);
        }
        catch (JsonException ex)
        {
            document.Dispose();
            var param = ParamFromPath(ex.Path);
            throw OpenAiException.Invalid(
                param is null ? $"The request body has a value of the wrong type: {ex.Message}" : $"'{param}' has the wrong type: {ex.Message}", param);
        }
        catch (OpenAiException)
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary><c>$.stream_options.include_usage</c> → <c>stream_options.include_usage</c>; array indices are dropped.</summary>
    internal static string? ParamFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return null;
        }

        var trimmed = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        var bracket = trimmed.IndexOf('[', StringComparison.Ordinal);
        return bracket > 0 ? trimmed[..bracket] : trimmed;
    }
}
