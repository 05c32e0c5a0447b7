using System.Text.Json;
using Dynamo.Router.Templates.Jinja;

namespace Dynamo.Router.Tests.Templates;

/// <summary>Engine behaviour (whitespace control matrix, loops, macros, filters, Python semantics) against jinja2's output.</summary>
public sealed class JinjaEngineCaseTests
{
    private static readonly Lazy<Dictionary<string, (string Template, JsonElement? Context)>> s_cases = new(LoadCases);
    private static readonly Lazy<JsonElement> s_expected = new(() => TemplateTestData.ReadJson(TemplateTestData.Path_("engine_expected.json")));

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in s_cases.Value.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Render_EngineCase_MatchesJinja2(string name)
    {
        var (source, context) = s_cases.Value[name];
        var expected = s_expected.Value.GetProperty(name);
        var variables = new Dictionary<string, object?>();
        if (context is { } ctx)
        {
            foreach (var property in ctx.EnumerateObject())
            {
                variables[property.Name] = property.Value;
            }
        }

        if (expected.TryGetProperty("output", out var output))
        {
            var template = JinjaTemplate.Compile(source);
            Assert.Equal(output.GetString(), template.Render(variables, new FixedTimeProvider(TemplateTestData.FixedNow)));
            return;
        }

        var kind = expected.GetProperty("error_kind").GetString();
        if (name.StartsWith("error_", StringComparison.Ordinal))
        {
            // This engine rejects at load what jinja2 may only reject when rendering (unknown tests, include).
            var compileError = Assert.Throws<TemplateException>(() => JinjaTemplate.Compile(source));
            Assert.True(compileError.Line >= 1);
            return;
        }

        var template2 = JinjaTemplate.Compile(source);
        var error = Assert.Throws<TemplateRenderException>(() => template2.Render(variables));
        Assert.Equal(kind == "raise_exception", error.RaisedByTemplate);
        Assert.Equal(expected.GetProperty("error").GetString(), error.Message);
    }

    private static Dictionary<string, (string, JsonElement?)> LoadCases()
    {
        var cases = new Dictionary<string, (string, JsonElement?)>(StringComparer.Ordinal);
        foreach (var item in TemplateTestData.ReadJson(TemplateTestData.Path_("engine_cases.json")).EnumerateArray())
        {
            JsonElement? context = item.TryGetProperty("context", out var c) ? c : null;
            cases[item.GetProperty("name").GetString()!] = (item.GetProperty("template").GetString()!, context);
        }

        return cases;
    }
}
