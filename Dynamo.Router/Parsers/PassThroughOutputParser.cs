namespace Dynamo.Router.Parsers;

/// <summary>The parser of a model with no tool-call or reasoning format configured: all text is content.</summary>
public sealed class PassThroughOutputParser : IOutputParser
{
    public bool SawToolCalls => false;

    public ParsedDelta Push(string text) =>
        string.IsNullOrEmpty(text) ? ParsedDelta.Empty : new ParsedDelta(text, null, []);

    public ParsedDelta Finish() => ParsedDelta.Empty;
}
