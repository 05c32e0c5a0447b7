using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Dynamo.Runtime.Contracts;

/// <summary>Reads and writes versioned contracts; every read checks <c>"v"</c> before binding fields.</summary>
public static class ContractSerializer
{
    public static byte[] Serialize<T>(T value)
        where T : IVersionedContract => JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>());

    public static void Serialize<T>(IBufferWriter<byte> destination, T value)
        where T : IVersionedContract
    {
        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, value, TypeInfo<T>());
    }

    /// <exception cref="ContractVersionException">The payload's version is missing or newer than this build reads.</exception>
    /// <exception cref="JsonException">The payload is not valid JSON for <typeparamref name="T"/>.</exception>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json)
        where T : IVersionedContract
    {
        var version = ReadVersion(utf8Json);
        if (version is null || version < 1 || version > T.CurrentVersion)
        {
            throw new ContractVersionException(typeof(T).Name, version, T.CurrentVersion);
        }

        return JsonSerializer.Deserialize(utf8Json, TypeInfo<T>())
            ?? throw new JsonException($"The {typeof(T).Name} payload is JSON null.");
    }

    private static JsonTypeInfo<T> TypeInfo<T>() =>
        (JsonTypeInfo<T>?)DynamoJsonContext.Default.GetTypeInfo(typeof(T))
        ?? throw new InvalidOperationException($"{typeof(T).Name} is not registered in {nameof(DynamoJsonContext)}.");

    /// <summary>Finds the top-level <c>"v"</c> without binding the rest, so an unknown shape is reported as a version problem.</summary>
    private static int? ReadVersion(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A contract payload must be a JSON object.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isVersion = reader.ValueTextEquals("v"u8);
            reader.Read();
            if (isVersion)
            {
                return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v)
                    ? v
                    : throw new JsonException("The \"v\" field must be an integer.");
            }

            reader.Skip();
        }

        return null;
    }
}
