using Dynamo.Router.Templates.Jinja;

namespace Dynamo.Router.Tests.Templates;

public sealed class JinjaTemplateTests
{
    private static string Render(string source, Dictionary<string, object?>? variables = null) =>
        JinjaTemplate.Compile(source).Render(variables ?? [], new FixedTimeProvider(TemplateTestData.FixedNow));

    [Fact]
    public void Compile_UnknownFilter_ThrowsWithLineAndColumn()
    {
        var error = Assert.Throws<TemplateException>(() => JinjaTemplate.Compile("line one\n{{ x | frobnicate }}"));

        Assert.Equal("unsupported filter 'frobnicate' at line 2, col 8", error.Message);
        Assert.Equal(2, error.Line);
        Assert.Equal(8, error.Column);
    }

    [Fact]
    public void Compile_UnknownTest_ThrowsAtLoad()
    {
        var error = Assert.Throws<TemplateException>(() => JinjaTemplate.Compile("{% if x is frobnicated %}{% endif %}"));

        Assert.Equal("unsupported test 'frobnicated' at line 1, col 12", error.Message);
    }

    [Theory]
    [InlineData("{% include 'x.jinja' %}", "include")]
    [InlineData("{% extends 'base' %}", "extends")]
    [InlineData("{% import 'm' as m %}", "import")]
    [InlineData("{% block body %}{% endblock %}", "block")]
    [InlineData("{% with a = 1 %}{% endwith %}", "with")]
    public void Compile_UnsupportedStatement_NamesIt(string source, string statement)
    {
        var error = Assert.Throws<TemplateException>(() => JinjaTemplate.Compile(source));

        Assert.Equal($"unsupported statement '{statement}' at line 1, col 4", error.Message);
    }

    [Fact]
    public void Compile_RecursiveLoop_IsRejected()
    {
        var error = Assert.Throws<TemplateException>(() => JinjaTemplate.Compile("{% for x in y recursive %}{% endfor %}"));

        Assert.StartsWith("unsupported recursive for loop", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_UnclosedIf_ReportsEndOfTemplate()
    {
        var error = Assert.Throws<TemplateException>(() => JinjaTemplate.Compile("{% if true %}\nnever closed"));

        Assert.Contains("'endif'", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Compile_TagInsideWrongBlock_ReportsExpectedEnd()
    {
        var error = Assert.Throws<TemplateException>(() => JinjaTemplate.Compile("{% for x in y %}\n{% endif %}"));

        Assert.Equal("unsupported statement 'endif' (expected one of: endfor, else) at line 2, col 4", error.Message);
    }

    [Fact]
    public void Render_RaiseException_CarriesMessageAndLine()
    {
        var error = Assert.Throws<TemplateRenderException>(() => Render("a\n{% if true %}\n{{ raise_exception('bad roles') }}\n{% endif %}"));

        Assert.True(error.RaisedByTemplate);
        Assert.Equal("bad roles", error.Message);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void Render_PythonTypeError_IsNotRaisedByTemplate()
    {
        var error = Assert.Throws<TemplateRenderException>(() => Render("{{ 'a' + 1 }}"));

        Assert.False(error.RaisedByTemplate);
        Assert.Equal("TypeError: can only concatenate str (not \"int\") to str", error.Message);
    }

    [Fact]
    public void RenderWithGenerationSpans_GenerationBlocks_ReportsTheirOutputRanges()
    {
        var template = JinjaTemplate.Compile(
            "{% for m in messages %}<{{ m.role }}>{% if m.role == 'assistant' %}{% generation %}{{ m.content }}!{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}");
        var messages = new List<object?>
        {
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "hi" },
            new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = "yo" },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "q" },
            new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = "answer" },
        };

        var rendered = template.RenderWithGenerationSpans(new Dictionary<string, object?> { ["messages"] = messages });

        Assert.Equal("<user>hi<assistant>yo!<user>q<assistant>answer!", rendered.Text);
        Assert.Equal(["yo!", "answer!"], rendered.GenerationSpans.Select(r => rendered.Text[r]));
    }

    [Fact]
    public void Render_StrftimeNow_ReadsTheInjectedClock()
    {
        var template = JinjaTemplate.Compile("{{ strftime_now('%d %B %Y %H:%M') }}|{{ strftime_now('%-d %b') }}");

        var text = template.Render(new Dictionary<string, object?>(), new FixedTimeProvider(new DateTimeOffset(2025, 3, 4, 17, 30, 0, TimeSpan.Zero)));

        Assert.Equal("04 March 2025 17:30|4 Mar", text);
    }

    [Fact]
    public void Render_UnsupportedStrftimeDirective_Throws()
    {
        var error = Assert.Throws<TemplateRenderException>(() => Render("{{ strftime_now('%Q') }}"));

        Assert.Contains("'%Q'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DotNetValues_AreSeenAsPythonValues()
    {
        var variables = new Dictionary<string, object?>
        {
            ["items"] = new object?[] { 1, 2.5, "x", null, true },
            ["map"] = new Dictionary<string, object?> { ["k"] = new List<int> { 1, 2 } },
        };

        Assert.Equal("[1, 2.5, 'x', None, True]|{'k': [1, 2]}|5", Render("{{ items }}|{{ map }}|{{ items | length }}", variables));
    }

    [Fact]
    public void Render_InfiniteMacroRecursion_FailsCleanly()
    {
        var error = Assert.Throws<TemplateRenderException>(() => Render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"));

        Assert.StartsWith("RecursionError", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SameTemplateFromManyThreads_RendersEachInputIndependently()
    {
        var template = JinjaTemplate.Compile("{% set ns = namespace(total=0) %}{% for i in range(n) %}{% set ns.total = ns.total + i %}{% endfor %}{{ n }}:{{ ns.total }}");

        var results = new string[64];
        Parallel.For(0, results.Length, i => results[i] = template.Render(new Dictionary<string, object?> { ["n"] = i }));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal($"{i}:{i * (i - 1) / 2}", results[i]);
        }
    }
}

public sealed class JinjaValidationTests
{
    [Theory]
    [InlineData("{% set c = cycler('a', 'b') %}", "cycler", 1, 12)]
    [InlineData("x\n  {{ joiner(', ')() }}", "joiner", 2, 6)]
    [InlineData("{% if x %}{{ [lipsum()] }}{% endif %}", "lipsum", 1, 15)]
    public void Compile_CallToUnknownFunction_FailsAtLoad(string source, string function, int line, int column)
    {
        var error = Assert.Throws<TemplateException>(() => JinjaTemplate.Compile(source));

        Assert.Equal($"unsupported function '{function}' at line {line}, col {column}", error.Message);
    }

    [Theory]
    [InlineData("{% macro m() %}{% endmacro %}{{ m() }}")]
    [InlineData("{{ later() }}{% macro later() %}{% endmacro %}")]
    [InlineData("{% set f = namespace %}{{ f(a=1) }}")]
    [InlineData("{% macro outer(cb) %}{{ cb() }}{{ caller() }}{% endmacro %}")]
    [InlineData("{{ raise_exception('x') if false }}{{ range(2) }}{{ dict(a=1) }}{{ strftime_now('%Y') }}")]
    public void Compile_CallsToKnownCallables_AreAccepted(string source)
    {
        Assert.NotNull(JinjaTemplate.Compile(source));
    }
}
