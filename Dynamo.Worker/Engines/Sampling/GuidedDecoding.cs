using Dynamo.Runtime.Guided;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>A request's compiled schema and the model's token table; each sequence gets its own matcher from it.</summary>
public sealed record GuidedDecoding(JsonSchemaGrammar Grammar, GuidedTokenTable Tokens)
{
    public GuidedJsonSequence CreateSequence() => new(Grammar, Tokens);
}
