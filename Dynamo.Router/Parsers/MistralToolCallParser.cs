using System.Text;

namespace Dynamo.Router.Parsers;

/// <summary>
/// Mistral calls, both tokenizer generations: <c>[TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]</c> (an
/// <c>id</c> member is ignored: ids are ours) and the newer <c>[TOOL_CALLS]name[ARGS]{...}</c>, repeated per call.
/// </summary>
internal sealed class MistralToolCallParser(Random random) : StreamingToolCallParser(random)
{
    private const string CallsTag = "[TOOL_CALLS]";
    private const string ArgsTag = "[ARGS]";

    private enum State { Content, AfterTag, BeforeElement, Object, AfterElement, Name, BeforeArguments, Arguments }

    private readonly StringBuilder _name = new();
    private JsonScanner _arguments = new();
    private State _state;

    protected override int Step(ReadOnlySpan<char> rest, bool final)
    {
        int space;
        switch (_state)
        {
            case State.Content:
                var used = ContentUntil(rest, CallsTag, final, out var found);
                _state = found ? State.AfterTag : State.Content;
                return used;
            case State.AfterTag:
                if ((space = SkipWhitespace(rest)) > 0)
                {
                    return space;
                }

                if (rest[0] == '[')
                {
                    Raw.Append('[');
                    _state = State.BeforeElement;
                    return 1;
                }

                _name.Clear();
                return IsNameChar(rest[0]) ? Go(State.Name) : Fail();
            case State.BeforeElement:
                return OpenObject(rest, ref _state, State.Object, State.Content);
            case State.Object:
                return FeedObject(rest, argumentsRequired: false, ref _state, State.AfterElement, State.Content);
            case State.AfterElement:
                if ((space = CloseObject(rest)) > 0)
                {
                    return space;
                }

                if (rest[0] == ',')
                {
                    Raw.Append(',');
                    _state = State.BeforeElement;
                    return 1;
                }

                _state = State.Content;
                return rest[0] == ']' ? 1 : 0;
            case State.Name:
                var nameLength = ReadName(rest, _name);
                if (nameLength == rest.Length)
                {
                    return nameLength > 0 ? nameLength : -1;
                }

                var match = StartsWith(rest[nameLength..], ArgsTag, final);
                if (match == Match.NeedMore)
                {
                    return nameLength > 0 ? nameLength : -1;
                }

                if (match == Match.No || _name.Length == 0)
                {
                    Abandon();
                    _state = State.Content;
                    return nameLength;
                }

                Raw.Append(ArgsTag);
                _state = State.BeforeArguments;
                return nameLength + ArgsTag.Length;
            case State.BeforeArguments:
                if ((space = SkipWhitespace(rest)) > 0)
                {
                    return space;
                }

                if (rest[0] != '{')
                {
                    return Fail();
                }

                OpenCall(_name.ToString());
                _arguments = new JsonScanner();
                return Go(State.Arguments);
            default:
                var taken = FeedArguments(_arguments, rest, out var result);
                if (result != CallObjectReader.Result.Continue)
                {
                    EndCall();
                    _state = State.Content;
                }

                return taken;
        }
    }

    protected override void OnFinished() => _state = State.Content;

    private int Go(State next)
    {
        _state = next;
        return 0;
    }

    /// <summary>The markup seen so far was not a call after all: it is content.</summary>
    private int Fail()
    {
        Abandon();
        return Go(State.Content);
    }
}
