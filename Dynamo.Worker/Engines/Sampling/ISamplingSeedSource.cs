using System.Security.Cryptography;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>Where requests without a seed get theirs; injected so tests and replays can fix it.</summary>
public interface ISamplingSeedSource
{
    ulong NextSeed();
}

/// <summary>Unpredictable seeds, so unseeded requests from different clients never share a stream.</summary>
internal sealed class CryptoSamplingSeedSource : ISamplingSeedSource
{
    public ulong NextSeed()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        RandomNumberGenerator.Fill(bytes);
        return BitConverter.ToUInt64(bytes);
    }
}
