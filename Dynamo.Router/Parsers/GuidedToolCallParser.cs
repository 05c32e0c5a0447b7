namespace Dynamo.Router.Parsers;

/// <summary>
/// The parser of a forced tool call (tool_choice <c>required</c> or a named function): the output was decoded under
/// <see cref="ToolChoice.GuidedSchema"/>, so it is a JSON object <c>{"name", "arguments"}</c> or an array of them,
/// not the model's own call markup. Calls stream as OpenAI streams them: a call opens (id, name, <c>""</c>) once its
/// name is read and its arguments have begun, then its arguments follow as they are generated.
/// </summary>
/// <remarks>
/// Output cut short (max_tokens) before a call's arguments began is not a call and stays content; one cut inside
/// its arguments has already been streamed, so the call stands with the arguments so far (finish_reason is then
/// <c>length</c>, as with OpenAI).
/// </remarks>
public sealed class GuidedToolCallParser : IOutputParser
{
    private readonly Reader _reader;

    public GuidedToolCallParser(Random random) => _reader = new Reader(random);

    public bool SawToolCalls => _reader.SawToolCalls;

    public ParsedDelta Push(string text) => _reader.Push(text);

    public ParsedDelta Finish() => _reader.Finish();

    /// <summary>
    /// The grammar's shape read a character at a time: <c>{call}</c> or <c>[{call}, {call}, ...]</c>, whitespace
    /// allowed between tokens. Anything else (only possible when the grammar was not applied) is content.
    /// </summary>
    private sealed class Reader(Random random) : StreamingToolCallParser(random)
    {
        private enum State { Start, BeforeObject, Object, AfterObject, End, PassThrough }

        private State _state;
        private bool _array;

        protected override int Step(ReadOnlySpan<char> rest, bool final)
        {
            switch (_state)
            {
                case State.Start:
                    var space = SkipWhitespace(rest);
                    if (space > 0)
                    {
                        return space;
                    }

                    _state = State.BeforeObject;
                    if (rest[0] != '[')
                    {
                        return 0;
                    }

                    _array = true;
                    Raw.Append('[');
                    return 1;
                case State.BeforeObject:
                    return OpenObject(rest, ref _state, State.Object, State.PassThrough);
                case State.Object:
                    return FeedObject(rest, argumentsRequired: true, ref _state, State.AfterObject, State.PassThrough);
                case State.AfterObject:
                    var closed = CloseObject(rest);
                    if (closed > 0)
                    {
                        return closed;
                    }

                    if (_array && rest[0] == ',')
                    {
                        Raw.Append(',');
                        _state = State.BeforeObject;
                        return 1;
                    }

                    if (_array && rest[0] == ']')
                    {
                        _state = State.End;
                        return 1;
                    }

                    _state = State.PassThrough;
                    return 0;
                case State.End:
                    // The document is complete; the grammar allows only whitespace after it, which is dropped.
                    space = SkipWhitespace(rest);
                    if (space > 0)
                    {
                        Raw.Clear();
                        return space;
                    }

                    _state = State.PassThrough;
                    return 0;
                default:
                    EmitContent(rest);
                    return rest.Length;
            }
        }

        protected override void OnFinished()
        {
            _state = State.Start;
            _array = false;
        }
    }
}
