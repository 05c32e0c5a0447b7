using System.Text;

namespace Dynamo.Router.Parsers;

/// <summary>
/// DeepSeek V3 / R1 calls:
/// <c>&lt;｜tool▁calls▁begin｜&gt;&lt;｜tool▁call▁begin｜&gt;function&lt;｜tool▁sep｜&gt;NAME\n```json\n{...}\n```&lt;｜tool▁call▁end｜&gt;…&lt;｜tool▁calls▁end｜&gt;</c>
/// (the bars are U+FF5C, the word separators U+2581). V3.1's shorter
/// <c>&lt;｜tool▁call▁begin｜&gt;NAME&lt;｜tool▁sep｜&gt;{...}&lt;｜tool▁call▁end｜&gt;</c> is read too: a <c>{</c> right after
/// the separator means the word before it was the name.
/// </summary>
internal sealed class DeepSeekV3ToolCallParser(Random random) : StreamingToolCallParser(random)
{
    internal const string CallsBegin = "<\uFF5Ctool\u2581calls\u2581begin\uFF5C>";
    internal const string CallsEnd = "<\uFF5Ctool\u2581calls\u2581end\uFF5C>";
    internal const string CallBegin = "<\uFF5Ctool\u2581call\u2581begin\uFF5C>";
    internal const string CallEnd = "<\uFF5Ctool\u2581call\u2581end\uFF5C>";
    internal const string Separator = "<\uFF5Ctool\u2581sep\uFF5C>";
    private const string JsonFence = "\n```json";
    private const string Fence = "```";

    private enum State { Content, Section, Word, AfterSeparator, Name, BeforeArguments, Arguments, AfterArguments, AfterFence }

    private readonly StringBuilder _word = new();
    private readonly StringBuilder _name = new();
    private JsonScanner _arguments = new();
    private int _callsInSection;
    private State _state;

    protected override int Step(ReadOnlySpan<char> rest, bool final)
    {
        int space;
        Match match;
        switch (_state)
        {
            case State.Content:
                var used = ContentUntil(rest, CallsBegin, final, out var found);
                _state = found ? State.Section : State.Content;
                _callsInSection = 0;
                return used;
            case State.Section:
                if ((space = SkipWhitespace(rest)) > 0)
                {
                    return space;
                }

                var begin = StartsWith(rest, CallBegin, final);
                var end = StartsWith(rest, CallsEnd, final);
                if (begin == Match.Yes)
                {
                    Raw.Append(CallBegin);
                    _word.Clear();
                    _name.Clear();
                    _state = State.Word;
                    return CallBegin.Length;
                }

                if (end == Match.Yes)
                {
                    // An empty section is kept as text; after calls the markup is theirs.
                    Raw.Append(CallsEnd);
                    if (_callsInSection == 0)
                    {
                        Abandon();
                    }

                    EndCall();
                    _state = State.Content;
                    return CallsEnd.Length;
                }

                return begin == Match.NeedMore || end == Match.NeedMore ? -1 : Fail();
            case State.Word:
                var length = ReadName(rest, _word);
                if (length == rest.Length)
                {
                    return length;
                }

                match = StartsWith(rest[length..], Separator, final);
                if (match == Match.NeedMore)
                {
                    return length > 0 ? length : -1;
                }

                if (match == Match.No || _word.Length == 0)
                {
                    Fail();
                    return length;
                }

                Raw.Append(Separator);
                _state = State.AfterSeparator;
                return length + Separator.Length;
            case State.AfterSeparator:
                if (rest[0] == '{')
                {
                    _name.Append(_word);
                    return OpenArguments();
                }

                return Go(State.Name);
            case State.Name:
                length = ReadName(rest, _name);
                if (length == rest.Length)
                {
                    return length;
                }

                match = StartsWith(rest[length..], JsonFence, final);
                if (match == Match.NeedMore)
                {
                    return length > 0 ? length : -1;
                }

                if (match == Match.No || _name.Length == 0)
                {
                    Fail();
                    return length;
                }

                Raw.Append(JsonFence);
                _state = State.BeforeArguments;
                return length + JsonFence.Length;
            case State.BeforeArguments:
                if ((space = SkipWhitespace(rest)) > 0)
                {
                    return space;
                }

                return rest[0] == '{' ? OpenArguments() : Fail();
            case State.Arguments:
                var taken = FeedArguments(_arguments, rest, out var result);
                _state = result switch
                {
                    CallObjectReader.Result.Done => State.AfterArguments,
                    CallObjectReader.Result.Failed => State.Content,
                    _ => State.Arguments,
                };
                return taken;
            case State.AfterArguments:
                if ((space = SkipWhitespace(rest)) > 0)
                {
                    return space;
                }

                match = StartsWith(rest, Fence, final);
                if (match == Match.NeedMore)
                {
                    return -1;
                }

                _state = State.AfterFence;
                return match == Match.Yes ? Fence.Length : 0;
            default:
                if ((space = SkipWhitespace(rest)) > 0)
                {
                    return space;
                }

                match = StartsWith(rest, CallEnd, final);
                if (match == Match.NeedMore)
                {
                    return -1;
                }

                EndCall();
                _callsInSection++;
                _state = match == Match.Yes ? State.Section : State.Content;
                return match == Match.Yes ? CallEnd.Length : 0;
        }
    }

    protected override void OnFinished() => _state = State.Content;

    private int OpenArguments()
    {
        OpenCall(_name.ToString());
        _arguments = new JsonScanner();
        return Go(State.Arguments);
    }

    private int Go(State next)
    {
        _state = next;
        return 0;
    }

    private int Fail()
    {
        Abandon();
        return Go(State.Content);
    }
}
