using System.Buffers;
using System.Text.Json;

namespace Dynamo.Gateway.Proxy;

/// <summary>A request body read into a pooled buffer (return it with <see cref="Dispose"/>).</summary>
internal sealed class RequestBody : IDisposable
{
    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public ArraySegment<byte> Segment => new(_buffer, 0, Length);

    /// <summary>Reads the whole body, or returns null as soon as it exceeds <paramref name="maxBytes"/>.</summary>
    public static async Task<RequestBody?> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        var limit = (int)Math.Min(maxBytes, Array.MaxLength - 1);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new RequestBody(buffer, length);
    }

    /// <summary>The top-level <c>model</c> string of a JSON object body.</summary>
    /// <exception cref="InvalidRequestBodyException">The body is not a JSON object, or <c>model</c> is missing or not a string.</exception>
    public string ReadModel()
    {
        try
        {
            return ReadModelCore();
        }
        catch (JsonException ex)
        {
            throw new InvalidRequestBodyException(
                $"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.) {ex.Message}",
                null);
        }
    }

    private string ReadModelCore()
    {
        var reader = new Utf8JsonReader(Memory.Span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidRequestBodyException("The request body must be a JSON object.", null);
        }

        string? model = null;
        var modelSeen = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isModel = reader.ValueTextEquals("model"u8);
            reader.Read();
            if (isModel)
            {
                modelSeen = true;
                model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                if (model is null)
                {
                    throw new InvalidRequestBodyException("'model' must be a string.", "model");
                }
            }
            else
            {
                reader.Skip();
            }
        }

        // Reading on to the end validates the rest of the document, so malformed JSON is refused here rather than by the router.
        while (reader.Read())
        {
        }

        if (!modelSeen || string.IsNullOrEmpty(model))
        {
            throw new InvalidRequestBodyException("You must provide a model parameter.", "model");
        }

        return model;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>The body cannot be routed: not JSON, not an object, or no usable <c>model</c>.</summary>
internal sealed class InvalidRequestBodyException(string message, string? param) : Exception(message)
{
    public string? Param { get; } = param;
}
