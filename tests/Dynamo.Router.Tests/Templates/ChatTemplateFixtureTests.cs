using Dynamo.Router.Templates;
using Dynamo.Router.Templates.Jinja;

namespace Dynamo.Router.Tests.Templates;

/// <summary>Every real template in shared/fixtures/chat-templates × every scenario, against transformers' renders.</summary>
public sealed class ChatTemplateFixtureTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var template in System.IO.Directory.GetFiles(TemplateTestData.TemplatesDirectory, "*.jinja").Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            foreach (var scenario in System.IO.Directory.GetFiles(TemplateTestData.Path_("scenarios"), "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal))
            {
                data.Add(template!, scenario!);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Render_FixtureTemplateAndScenario_MatchesTransformers(string templateFile, string scenario)
    {
        var (bos, eos) = TemplateTestData.Tokens(templateFile);
        var template = ChatTemplate.Load(Path.Combine(TemplateTestData.TemplatesDirectory, templateFile), bos, eos, new FixedTimeProvider(TemplateTestData.FixedNow));
        var request = ChatTemplateRequest.FromOpenAiRequest(TemplateTestData.ReadJson(TemplateTestData.Path_("scenarios", scenario + ".json")));
        var expectedBase = TemplateTestData.Path_("expected", Path.GetFileNameWithoutExtension(templateFile), scenario);

        if (File.Exists(expectedBase + ".txt"))
        {
            var expected = File.ReadAllText(expectedBase + ".txt");
            Assert.Equal(expected, template.Render(request));
            return;
        }

        var lines = File.ReadAllText(expectedBase + ".error").Split('\n', 2);
        var error = Assert.Throws<TemplateRenderException>(() => template.Render(request));
        Assert.Equal(lines[0] == "raise_exception", error.RaisedByTemplate);
        Assert.Equal(lines[1], error.Message);
    }

    [Fact]
    public void Cases_FixturesAndScenarios_AreAllCovered()
    {
        var templates = System.IO.Directory.GetFiles(TemplateTestData.TemplatesDirectory, "*.jinja").Length;
        var scenarios = System.IO.Directory.GetFiles(TemplateTestData.Path_("scenarios"), "*.json").Length;
        var expected = System.IO.Directory.GetFiles(TemplateTestData.Path_("expected"), "*.*", SearchOption.AllDirectories).Length;

        Assert.True(templates >= 6);
        Assert.Equal(templates * scenarios, expected);
    }
}
