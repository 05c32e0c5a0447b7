using System.Text;
using System.Text.Json;

namespace Dynamo.Router.Parsers;

/// <summary>
/// Reads one <c>{"name": ..., "arguments": {...}}</c> call object (hermes, llama3, mistral) a character at a time.
/// The arguments value is copied exactly as the model wrote it into <see cref="PendingArguments"/> as soon as each
/// character is known to continue valid JSON, so the parser can stream it (arguments written as a JSON string are
/// decoded and passed on whole when the string ends); other members (an <c>id</c>, say) are validated and ignored.
/// </summary>
internal sealed class CallObjectReader
{
    private enum Member { Other, Name, Arguments }

    private readonly JsonScanner _scanner = new();
    private readonly StringBuilder _key = new();
    private readonly StringBuilder _name = new();
    private readonly StringBuilder _stringArguments = new();
    private Member _member;
    private bool _inValue;
    private bool _argumentsAsString;

    public enum Result { Continue, Done, Failed }

    /// <summary>Every character accepted so far, so a call that turns out malformed goes back to the client as text.</summary>
    public StringBuilder Raw { get; } = new();

    /// <summary>Arguments characters accepted but not yet taken by the parser.</summary>
    public StringBuilder PendingArguments { get; } = new();

    public string? Name { get; private set; }

    public bool ArgumentsStarted { get; private set; }

    public bool ArgumentsDone { get; private set; }

    /// <summary>Feeds one character; on <see cref="Result.Failed"/> the character was not taken.</summary>
    public Result Feed(char c)
    {
        if (Raw.Length == 0 && c != '{')
        {
            return Result.Failed;
        }

        var wasInKey = _scanner.InKey;
        if (!_scanner.Feed(c))
        {
            return Result.Failed;
        }

        if (_scanner.EndedValueBefore && _scanner.EndBeforeDepth == 1)
        {
            _inValue = false;
            if (!EndMember())
            {
                return Result.Failed;
            }
        }

        if (_scanner.StartedValue && _scanner.StartDepth == 1)
        {
            if (_member == Member.Name && c != '"' || _member == Member.Arguments && ArgumentsStarted)
            {
                return Result.Failed;
            }

            _inValue = true;
            ArgumentsStarted |= _member == Member.Arguments;
            _argumentsAsString = _member == Member.Arguments && c == '"';
        }

        if ((wasInKey || _scanner.InKey) && _scanner.Depth == 1)
        {
            _key.Append(c);
        }

        if (_scanner.EndedKey && _scanner.Depth == 1)
        {
            var key = Decode(_key.ToString());
            _key.Clear();
            _member = key switch
            {
                "name" => Member.Name,
                "arguments" or "parameters" => Member.Arguments,
                _ => Member.Other,
            };
            if (_member == Member.Name && Name is not null)
            {
                return Result.Failed;
            }
        }

        if (_inValue)
        {
            var target = _member switch
            {
                Member.Name => _name,
                Member.Arguments => _argumentsAsString ? _stringArguments : PendingArguments,
                _ => null,
            };
            target?.Append(c);
        }

        if (_scanner.EndedValue && _scanner.EndDepth == 1)
        {
            _inValue = false;
            if (!EndMember())
            {
                return Result.Failed;
            }
        }

        Raw.Append(c);
        return _scanner.IsDone ? Result.Done : Result.Continue;
    }

    private bool EndMember()
    {
        var member = _member;
        _member = Member.Other;
        if (member == Member.Arguments)
        {
            ArgumentsDone = true;
            if (_argumentsAsString)
            {
                // Some models write the arguments as a JSON string holding the JSON (OpenAI's own wire shape); its
                // text is what the client wants, so it can only be sent once the string has ended.
                var text = Decode(_stringArguments.ToString());
                PendingArguments.Append(text.Length == 0 ? "{}" : text);
            }
        }
        else if (member == Member.Name)
        {
            Name = Decode(_name.ToString());
            if (Name.Length == 0)
            {
                Name = null;
                return false;
            }
        }

        return true;
    }

    private static string Decode(string jsonString)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(jsonString));
        reader.Read();
        return reader.GetString() ?? "";
    }
}
