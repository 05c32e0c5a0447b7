using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Dynamo.Worker.Api;

/// <summary>
/// Writes server-sent events straight into the response pipe: the JSON is serialized into the pipe's own
/// buffer and each event is flushed once, so a streamed token costs no intermediate arrays.
/// </summary>
internal sealed class ServerSentEventWriter(PipeWriter pipe) : IDisposable
{
    private readonly Utf8JsonWriter _json = new(pipe);

    public ValueTask<FlushResult> WriteAsync<T>(T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken) =>
        WriteAsync(default, value, typeInfo, cancellationToken);

    /// <param name="eventName">UTF-8 event name (<c>event:</c> line), or empty for the default "message" event.</param>
    public ValueTask<FlushResult> WriteAsync<T>(ReadOnlySpan<byte> eventName, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        if (!eventName.IsEmpty)
        {
            pipe.Write("event: "u8);
            pipe.Write(eventName);
            pipe.Write("\n"u8);
        }

        pipe.Write("data: "u8);
        JsonSerializer.Serialize(_json, value, typeInfo);
        _json.Flush();
        _json.Reset();
        pipe.Write("\n\n"u8);
        return pipe.FlushAsync(cancellationToken);
    }

    public void Dispose() => _json.Dispose();
}
