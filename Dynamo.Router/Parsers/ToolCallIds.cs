namespace Dynamo.Router.Parsers;

/// <summary>Tool call ids shaped like OpenAI's: <c>call_</c> followed by 24 letters and digits.</summary>
public static class ToolCallIds
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Makes an id from <paramref name="random"/> (seeded in tests, <see cref="Random.Shared"/> otherwise).</summary>
    public static string New(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return string.Create(29, random, static (span, rng) =>
        {
            "call_".CopyTo(span);
            for (var i = 5; i < span.Length; i++)
            {
                span[i] = Alphabet[rng.Next(Alphabet.Length)];
            }
        });
    }
}
