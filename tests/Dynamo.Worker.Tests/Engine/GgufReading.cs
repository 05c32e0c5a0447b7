using Dynamo.Runtime.Gguf;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>Test-side shorthands over <see cref="GgufReader"/>: raw metadata values and tensors by name.</summary>
internal static class GgufReading
{
    /// <summary>The stored value as written (scalars boxed as their GGUF type; arrays as T[]; string arrays as string[]).</summary>
    public static T Get<T>(this GgufReader reader, string key) => reader.GetValue(key).Value switch
    {
        GgufStringArray strings when typeof(T) == typeof(string[]) => (T)(object)strings.ToArray(),
        var value => (T)value,
    };

    public static GgufTensorInfo Tensor(this GgufReader reader, string name) =>
        reader.TryGetTensor(name, out var tensor) ? tensor : throw new InvalidDataException($"no tensor '{name}'");

    public static byte[] ReadTensorBytes(this GgufReader reader, string name) => reader.ReadTensorData(reader.Tensor(name));
}
