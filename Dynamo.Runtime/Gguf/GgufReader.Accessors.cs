using System.Diagnostics.CodeAnalysis;

namespace Dynamo.Runtime.Gguf;

/// <summary>Typed metadata accessors. Integer getters accept any GGUF integer type whose value fits.</summary>
public sealed partial class GgufReader
{
    public string GetString(string key) => Wrap(key, v => v.AsString());

    public uint GetUInt32(string key) => Wrap(key, v => v.AsUInt32());

    public int GetInt32(string key) => Wrap(key, v => v.AsInt32());

    public ulong GetUInt64(string key) => Wrap(key, v => v.AsUInt64());

    public long GetInt64(string key) => Wrap(key, v => v.AsInt64());

    public float GetSingle(string key) => Wrap(key, v => v.AsSingle());

    public bool GetBool(string key) => Wrap(key, v => v.AsBool());

    /// <summary>Array elements of exactly the stored type (<c>int[]</c> for Int32, <c>string[]</c> for strings, ...).</summary>
    public T[] GetArray<T>(string key) => Wrap(key, v => v.AsArray<T>());

    public GgufStringArray GetStringArray(string key) => Wrap(key, v => v.AsStringArray());

    public bool TryGetString(string key, [NotNullWhen(true)] out string? value) => TryGet(key, v => v.AsString(), out value);

    public bool TryGetUInt32(string key, out uint value) => TryGet(key, v => v.AsUInt32(), out value);

    public bool TryGetInt32(string key, out int value) => TryGet(key, v => v.AsInt32(), out value);

    public bool TryGetUInt64(string key, out ulong value) => TryGet(key, v => v.AsUInt64(), out value);

    public bool TryGetSingle(string key, out float value) => TryGet(key, v => v.AsSingle(), out value);

    public bool TryGetBool(string key, out bool value) => TryGet(key, v => v.AsBool(), out value);

    public bool TryGetArray<T>(string key, [NotNullWhen(true)] out T[]? value) => TryGet(key, v => v.AsArray<T>(), out value);

    public bool TryGetStringArray(string key, [NotNullWhen(true)] out GgufStringArray? value) => TryGet(key, v => v.AsStringArray(), out value);

    private T Wrap<T>(string key, Func<GgufMetadataValue, T> read)
    {
        var value = GetValue(key);
        try
        {
            return read(value);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"GGUF metadata '{key}': {e.Message}", e);
        }
    }

    /// <summary>False when the key is absent; a present key of the wrong type still throws, since that means a broken file.</summary>
    private bool TryGet<T>(string key, Func<GgufMetadataValue, T> read, [MaybeNullWhen(false)] out T value)
    {
        if (!_metadata.ContainsKey(key))
        {
            value = default;
            return false;
        }

        value = Wrap(key, read);
        return true;
    }
}
