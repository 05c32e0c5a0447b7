namespace Dynamo.Runtime.Guided;

/// <summary>
/// Incremental matcher for one output: feed it bytes as they are generated; it refuses any byte that could not
/// lead to a text the grammar accepts. Not thread-safe (one per sequence).
/// </summary>
public sealed class JsonGrammarMatcher
{
    private MatcherState _state = new();
    private MatcherState _scratch = new();
    private MatcherState _spare = new();

    public JsonGrammarMatcher(JsonSchemaGrammar grammar)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        Grammar = grammar;
        JsonMatcherCore.Initialize(_state, grammar.Root);
    }

    public JsonSchemaGrammar Grammar { get; }

    /// <summary>The value so far is complete: the output may end here.</summary>
    public bool CanFinish => JsonMatcherCore.CanFinish(Grammar.Nodes, _state);

    /// <summary>The value is complete and no byte may follow it.</summary>
    public bool IsDone => JsonMatcherCore.IsDone(_state);

    internal MatcherState State => _state;

    public bool TryAdvance(byte b)
    {
        if (!JsonMatcherCore.Advance(Grammar.Nodes, _state, b, _scratch))
        {
            return false;
        }

        (_state, _scratch) = (_scratch, _state);
        return true;
    }

    /// <summary>Feeds all of <paramref name="bytes"/> or, when one is refused, none of them.</summary>
    public bool TryAdvance(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return true;
        }

        var current = _state;
        var next = _scratch;
        foreach (var b in bytes)
        {
            if (!JsonMatcherCore.Advance(Grammar.Nodes, current, b, next))
            {
                return false;
            }

            // Ping-pong between the two spare states; the committed one is only replaced on success.
            current = next;
            next = ReferenceEquals(next, _scratch) ? _spare : _scratch;
        }

        var old = _state;
        _state = current;
        if (ReferenceEquals(current, _scratch))
        {
            _scratch = old;
        }
        else
        {
            _spare = old;
        }

        return true;
    }
}
