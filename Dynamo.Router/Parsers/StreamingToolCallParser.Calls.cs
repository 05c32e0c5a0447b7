using System.Text;

namespace Dynamo.Router.Parsers;

/// <summary>The call-reading steps the formats share: JSON call objects, bare argument objects, function names.</summary>
internal abstract partial class StreamingToolCallParser
{
    /// <summary>
    /// The step before a call object: whitespace is skipped; a <c>{</c> starts the object (state becomes
    /// <paramref name="objectState"/> and nothing is taken, so the object's reader sees the brace), anything else
    /// means there are no (more) calls (state becomes <paramref name="failed"/> and the text stays content).
    /// </summary>
    protected int OpenObject<TState>(ReadOnlySpan<char> rest, ref TState state, TState objectState, TState failed)
        where TState : struct, Enum
    {
        var space = SkipWhitespace(rest);
        if (space > 0)
        {
            return space;
        }

        if (rest[0] == '{')
        {
            state = objectState;
        }
        else
        {
            Abandon();
            state = failed;
        }

        return 0;
    }

    /// <summary>
    /// The step after a call object: whitespace is skipped (its length is returned); at the first other character
    /// the call ends and 0 is returned, leaving that character (a separator, or whatever follows the calls) to the
    /// format.
    /// </summary>
    protected int CloseObject(ReadOnlySpan<char> rest)
    {
        var space = SkipWhitespace(rest);
        if (space == 0)
        {
            EndCall();
        }

        return space;
    }

    /// <summary>
    /// Feeds characters to <see cref="Reader"/>, streaming the arguments once the call's name is known. Returns the
    /// characters taken. <c>Done</c>: the call is open and complete (the format now expects its end marker);
    /// <c>Failed</c>: no call, or a truncated one that has been closed (the text continues as content).
    /// </summary>
    protected int FeedObject<TState>(ReadOnlySpan<char> rest, bool argumentsRequired, ref TState state, TState done, TState failed)
        where TState : struct, Enum
    {
        var taken = FeedObject(rest, argumentsRequired, out var result);
        state = result switch
        {
            CallObjectReader.Result.Done => done,
            CallObjectReader.Result.Failed => failed,
            _ => state,
        };
        return taken;
    }

    /// <summary>The step above without the state: returns the characters taken and the reader's outcome.</summary>
    protected int FeedObject(ReadOnlySpan<char> rest, bool argumentsRequired, out CallObjectReader.Result result)
    {
        var reader = Reader ??= new CallObjectReader();
        for (var i = 0; i < rest.Length; i++)
        {
            result = reader.Feed(rest[i]);
            if (result == CallObjectReader.Result.Failed)
            {
                Reader = null;
                if (!InCall)
                {
                    Abandon(reader.Raw);
                }
                else if (reader.ArgumentsDone)
                {
                    // Arguments complete but the wrapper object broken (a missing closing brace is a common slip):
                    // the call stands and the format looks for its end marker from here.
                    result = CallObjectReader.Result.Done;
                }
                else
                {
                    EndCall();
                }

                return i;
            }

            if (!InCall && reader.Name is not null && reader.ArgumentsStarted)
            {
                OpenCall(reader.Name);
            }

            if (InCall)
            {
                Arguments(reader.PendingArguments);
            }

            if (result == CallObjectReader.Result.Done)
            {
                Reader = null;
                if (!InCall && reader.Name is not null && !argumentsRequired)
                {
                    OpenCall(reader.Name);
                    Arguments("{}");
                }
                else if (!InCall)
                {
                    Abandon(reader.Raw);
                    result = CallObjectReader.Result.Failed;
                }

                return i + 1;
            }
        }

        result = CallObjectReader.Result.Continue;
        return rest.Length;
    }

    /// <summary>
    /// Streams a bare arguments object (mistral's <c>[ARGS]</c>, deepseek's fenced JSON) of the open call. A break
    /// in the JSON closes the call there; the offending character is not taken.
    /// </summary>
    protected int FeedArguments(JsonScanner scanner, ReadOnlySpan<char> rest, out CallObjectReader.Result result)
    {
        for (var i = 0; i < rest.Length; i++)
        {
            if (!scanner.Feed(rest[i]))
            {
                Arguments(rest[..i]);
                EndCall();
                result = CallObjectReader.Result.Failed;
                return i;
            }

            if (scanner.IsDone)
            {
                Arguments(rest[..(i + 1)]);
                result = CallObjectReader.Result.Done;
                return i + 1;
            }
        }

        Arguments(rest);
        result = CallObjectReader.Result.Continue;
        return rest.Length;
    }

    protected static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.';

    /// <summary>Consumes a function name's characters into <paramref name="name"/> and <see cref="Raw"/>.</summary>
    protected int ReadName(ReadOnlySpan<char> rest, StringBuilder name)
    {
        var n = 0;
        while (n < rest.Length && IsNameChar(rest[n]))
        {
            n++;
        }

        name.Append(rest[..n]);
        Raw.Append(rest[..n]);
        return n;
    }
}
