namespace Dynamo.Router.Templates.Jinja;

/// <summary>
/// A template that cannot be compiled: a syntax error or a construct this engine does not support.
/// Raised when the template is loaded, so a bad model configuration fails at start-up rather than per request.
/// </summary>
public sealed class TemplateException : Exception
{
    public TemplateException(string message, int line, int column)
        : base($"{message} at line {line}, col {column}")
    {
        Reason = message;
        Line = line;
        Column = column;
    }

    /// <summary>The message without the position.</summary>
    public string Reason { get; }

    public int Line { get; }

    public int Column { get; }
}

/// <summary>
/// A render that failed: the template called <c>raise_exception</c> (the request is invalid for this model) or an
/// operation failed the way it would in Python (e.g. concatenating a string with None). Maps to HTTP 400.
/// </summary>
public sealed class TemplateRenderException : Exception
{
    public TemplateRenderException(string message, bool raisedByTemplate = false, int line = 0)
        : base(message)
    {
        RaisedByTemplate = raisedByTemplate;
        Line = line;
    }

    /// <summary>True when the template itself called <c>raise_exception(message)</c>.</summary>
    public bool RaisedByTemplate { get; }

    /// <summary>The template line being rendered when the error happened; 0 when unknown.</summary>
    public int Line { get; internal set; }
}
