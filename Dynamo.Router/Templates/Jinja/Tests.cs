namespace Dynamo.Router.Templates.Jinja;

/// <summary>The supported <c>is</c> tests, with Jinja2 3.1 semantics (bool counts as a number, not an integer).</summary>
internal static class Tests
{
    private static readonly Dictionary<string, TestFunc> s_tests = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is PyDict,
        ["iterable"] = (v, _) => v is string or List<object?> or PyTuple or PyDict or PyIterator or Undefined,
        ["sequence"] = (v, _) => v is string or List<object?> or PyTuple or PyDict or Undefined,
        ["number"] = (v, _) => v is long or double or bool,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["callable"] = (v, _) => v is Macro or PyFunction or GlobalFunction,
        ["lower"] = (v, _) => v is string s && s.Any(char.IsLower) && !s.Any(char.IsUpper),
        ["upper"] = (v, _) => v is string s && s.Any(char.IsUpper) && !s.Any(char.IsLower),
        ["even"] = (v, _) => Integer(v) % 2 == 0,
        ["odd"] = (v, _) => Math.Abs(Integer(v) % 2) == 1,
        ["divisibleby"] = (v, a) => a.Get(0, "num", null) is long n && n != 0
            ? Integer(v) % n == 0
            : throw new TemplateRenderException("TypeError: divisibleby requires a non-zero integer"),
        ["equalto"] = (v, a) => PyOps.Equal(v, a.Get(0, "other", null)),
        ["eq"] = (v, a) => PyOps.Equal(v, a.Get(0, "other", null)),
        ["=="] = (v, a) => PyOps.Equal(v, a.Get(0, "other", null)),
        ["ne"] = (v, a) => !PyOps.Equal(v, a.Get(0, "other", null)),
        ["!="] = (v, a) => !PyOps.Equal(v, a.Get(0, "other", null)),
        ["lt"] = (v, a) => PyOps.Compare(v, a.Get(0, "other", null), "<") < 0,
        ["le"] = (v, a) => PyOps.Compare(v, a.Get(0, "other", null), "<=") <= 0,
        ["gt"] = (v, a) => PyOps.Compare(v, a.Get(0, "other", null), ">") > 0,
        ["ge"] = (v, a) => PyOps.Compare(v, a.Get(0, "other", null), ">=") >= 0,
        ["in"] = (v, a) => PyOps.Contains(a.Get(0, "seq", null), v),
        ["sameas"] = (v, a) => a.Get(0, "other", null) is var other && (ReferenceEquals(v, other) || (v is null or bool && Equals(v, other))),
    };

    public static TestFunc? Find(string name) => s_tests.GetValueOrDefault(name);

    private static long Integer(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d when d == Math.Floor(d) => (long)d,
        Undefined u => throw u.Fail(),
        _ => throw new TemplateRenderException($"TypeError: not all arguments converted during string formatting ({PyOps.TypeName(value)} % int)"),
    };
}
