using Dynamo.Runtime.Generation;
using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Api;

public static partial class GenerateApi
{
    /// <summary>The sampler's alternatives in wire form; null when the request asked for none.</summary>
    private static GenerateTopLogprob[]? ToWire(IReadOnlyList<TokenLogprob>? top)
    {
        if (top is not { Count: > 0 })
        {
            return null;
        }

        var result = new GenerateTopLogprob[top.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new GenerateTopLogprob(top[i].TokenId, top[i].Logprob);
        }

        return result;
    }
}
