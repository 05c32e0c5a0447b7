namespace Dynamo.Runtime.Guided;

/// <summary>
/// Guided decoding for one output: before each step <see cref="ApplyMask"/> removes the tokens that would break the
/// schema, after it <see cref="Accept"/> moves the matcher over the sampled token. Once the value is complete only
/// end-of-generation tokens remain, so the output ends there. Not thread-safe (one per sequence).
/// </summary>
public sealed class GuidedJsonSequence
{
    private readonly TokenMaskComputer _computer;
    private readonly ulong[] _mask;

    public GuidedJsonSequence(JsonSchemaGrammar grammar, GuidedTokenTable table)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        ArgumentNullException.ThrowIfNull(table);
        Matcher = new JsonGrammarMatcher(grammar);
        _computer = new TokenMaskComputer(table);
        _mask = new ulong[table.MaskWords];
    }

    public JsonGrammarMatcher Matcher { get; }

    /// <summary>An end-of-generation token was accepted: the output is a complete value.</summary>
    public bool Ended { get; private set; }

    /// <summary>The allowed tokens of the last <see cref="ComputeMask"/>.</summary>
    public ReadOnlySpan<ulong> Mask => _mask;

    public int ComputeMask() => _computer.Compute(Matcher, _mask);

    /// <summary>Masks <paramref name="logits"/> (vocabulary-sized) to the tokens allowed next.</summary>
    public void ApplyMask(Span<float> logits)
    {
        if (ComputeMask() == 0)
        {
            throw new InvalidOperationException("Guided decoding reached a state no token can continue; the vocabulary lacks a token for a needed byte.");
        }

        TokenMaskComputer.ApplyMask(_mask, logits);
    }

    public bool IsAllowed(int tokenId) => (uint)tokenId < (uint)_computer.Table.VocabSize && (_mask[tokenId >> 6] & (1UL << tokenId)) != 0;

    /// <summary>Moves past a sampled token; a token the schema does not allow here throws.</summary>
    public void Accept(int tokenId)
    {
        var table = _computer.Table;
        if (Ended)
        {
            throw new InvalidOperationException("The guided output already ended.");
        }

        if (Array.IndexOf(table.EndOfGenerationIds, tokenId) >= 0)
        {
            Ended = Matcher.CanFinish
                ? true
                : throw new InvalidOperationException($"Token {tokenId} ends the output before the JSON value is complete.");
            return;
        }

        var piece = (uint)tokenId < (uint)table.VocabSize ? table.Piece(tokenId) : default;
        if (piece.IsEmpty || !Matcher.TryAdvance(piece))
        {
            throw new InvalidOperationException($"Token {tokenId} does not continue the output as the JSON schema requires.");
        }
    }
}
