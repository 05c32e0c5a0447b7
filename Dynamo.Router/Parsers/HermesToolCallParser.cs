namespace Dynamo.Router.Parsers;

/// <summary>
/// Hermes / Qwen 2.5 / Qwen 3 calls: <c>&lt;tool_call&gt;\n{"name": ..., "arguments": {...}}\n&lt;/tool_call&gt;</c>,
/// several in a row; text before them is content. The JSON is scanned, so <c>&lt;/tool_call&gt;</c> inside an
/// argument string does not end the call.
/// </summary>
internal sealed class HermesToolCallParser(Random random) : StreamingToolCallParser(random)
{
    private const string OpenTag = "<tool_call>";
    private const string CloseTag = "</tool_call>";

    private enum State { Content, BeforeObject, Object, AfterObject }

    private State _state;

    protected override int Step(ReadOnlySpan<char> rest, bool final)
    {
        switch (_state)
        {
            case State.Content:
                var used = ContentUntil(rest, OpenTag, final, out var found);
                _state = found ? State.BeforeObject : State.Content;
                return used;
            case State.BeforeObject:
                var space = SkipWhitespace(rest);
                if (space > 0)
                {
                    return space;
                }

                if (rest[0] != '{')
                {
                    Abandon();
                    _state = State.Content;
                }
                else
                {
                    _state = State.Object;
                }

                return 0;
            case State.Object:
                return FeedObject(rest, argumentsRequired: false, ref _state, State.AfterObject, State.Content);
            default:
                space = SkipWhitespace(rest);
                if (space > 0)
                {
                    return space;
                }

                var match = StartsWith(rest, CloseTag, final);
                if (match == Match.NeedMore)
                {
                    return -1;
                }

                EndCall();
                _state = State.Content;
                return match == Match.Yes ? CloseTag.Length : 0;
        }
    }

    protected override void OnFinished() => _state = State.Content;
}
