using Dynamo.Runtime.Guided;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>A request's compiled schema and the model's token table; each sequence gets its own matcher from it.</summary>
/// <param name="Replay">Output generated before (a migrated request): fed to each new matcher first.</param>
public sealed record GuidedDecoding(JsonSchemaGrammar Grammar, GuidedTokenTable Tokens, IReadOnlyList<int>? Replay = null)
{
    public GuidedJsonSequence CreateSequence()
    {
        var sequence = new GuidedJsonSequence(Grammar, Tokens);
        foreach (var token in Replay ?? [])
        {
            sequence.Accept(token);
        }

        return sequence;
    }
}
