using System.Text;
using System.Text.RegularExpressions;
using Dynamo.Router.Parsers;

namespace Dynamo.Router.Tests.Parsers;

/// <summary>
/// The concatenation of every delta of one parse, checked on the way for the shape OpenAI streams: a call's first
/// delta carries its id, name and empty arguments, later ones only argument text, indices in order from 0.
/// </summary>
internal sealed partial record ParseResult(string? Content, string? Reasoning, IReadOnlyList<(string Name, string Arguments)> Calls, bool SawToolCalls)
{
    public static ParseResult Run(IOutputParser parser, IEnumerable<string> chunks)
    {
        var content = new StringBuilder();
        var reasoning = new StringBuilder();
        var names = new List<string>();
        var arguments = new List<StringBuilder>();
        var ids = new HashSet<string>();
        foreach (var chunk in chunks)
        {
            Collect(parser.Push(chunk));
        }

        Collect(parser.Finish());
        return new ParseResult(
            content.Length == 0 ? null : content.ToString(),
            reasoning.Length == 0 ? null : reasoning.ToString(),
            [.. names.Select((n, i) => (n, arguments[i].ToString()))],
            parser.SawToolCalls);

        void Collect(ParsedDelta delta)
        {
            Assert.NotEqual("", delta.Content);
            Assert.NotEqual("", delta.Reasoning);
            content.Append(delta.Content);
            reasoning.Append(delta.Reasoning);
            foreach (var call in delta.ToolCalls)
            {
                if (call.Id is not null)
                {
                    Assert.Equal(names.Count, call.Index);
                    Assert.Matches(IdPattern(), call.Id);
                    Assert.True(ids.Add(call.Id), $"duplicate id {call.Id}");
                    Assert.False(string.IsNullOrEmpty(call.Name));
                    Assert.Equal("", call.ArgumentsDelta);
                    names.Add(call.Name!);
                    arguments.Add(new StringBuilder());
                }
                else
                {
                    Assert.Null(call.Name);
                    Assert.InRange(call.Index, 0, names.Count - 1);
                    Assert.False(string.IsNullOrEmpty(call.ArgumentsDelta));
                    arguments[call.Index].Append(call.ArgumentsDelta);
                }
            }
        }
    }

    [GeneratedRegex("^call_[A-Za-z0-9]{24}$")]
    private static partial Regex IdPattern();
}
