namespace Dynamo.Router.Parsers;

/// <summary>
/// Llama 3.1 / 3.2 JSON calls: an output that starts (after an optional <c>&lt;|python_tag|&gt;</c>) with
/// <c>{"name": ..., "parameters": {...}}</c>, several separated by <c>;</c>. Anything else is an ordinary answer, so
/// a call is recognised only at the very start of the output; an object without <c>parameters</c> /
/// <c>arguments</c> is content (a model answering in JSON is not calling a tool).
/// </summary>
internal sealed class Llama3JsonToolCallParser(Random random) : StreamingToolCallParser(random)
{
    private const string PythonTag = "<|python_tag|>";

    private enum State { Start, BeforeObject, Object, AfterObject, PassThrough }

    private State _state;

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

                var match = StartsWith(rest, PythonTag, final);
                if (match == Match.NeedMore)
                {
                    return -1;
                }

                if (match == Match.Yes)
                {
                    Raw.Append(PythonTag);
                    _state = State.BeforeObject;
                    return PythonTag.Length;
                }

                _state = State.BeforeObject;
                return 0;
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

                if (rest[0] == ';')
                {
                    Raw.Append(';');
                    _state = State.BeforeObject;
                    return 1;
                }

                _state = State.PassThrough;
                return 0;
            default:
                EmitContent(rest);
                return rest.Length;
        }
    }

    protected override void OnFinished() => _state = State.Start;
}
