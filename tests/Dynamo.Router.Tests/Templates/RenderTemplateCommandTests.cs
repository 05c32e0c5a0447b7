using Dynamo.Router.Templates;

namespace Dynamo.Router.Tests.Templates;

public sealed class RenderTemplateCommandTests
{
    private static readonly string s_llama = Path.Combine(TemplateTestData.TemplatesDirectory, "meta-llama-Llama-3.1-8B-Instruct.jinja");
    private static readonly string s_mistral = Path.Combine(TemplateTestData.TemplatesDirectory, "mistralai-Mistral-Nemo-Instruct-2407.jinja");

    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = RenderTemplateCommand.Run(args, stdout, stderr, new StringReader(stdin), new FixedTimeProvider(TemplateTestData.FixedNow));
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Run_FixtureTemplateAndRequest_PrintsExactlyTheExpectedPrompt()
    {
        var request = TemplateTestData.Path_("scenarios", "tools_call_and_result.json");
        var expected = File.ReadAllText(TemplateTestData.Path_("expected", "meta-llama-Llama-3.1-8B-Instruct", "tools_call_and_result.txt"));

        var (code, output, error) = Run("", "--template", s_llama, "--request", request, "--bos", "<|begin_of_text|>", "--eos", "<|eot_id|>");

        Assert.Equal(0, code);
        Assert.Equal(expected, output);
        Assert.Equal("", error);
    }

    [Fact]
    public void Run_RequestOnStdin_IsRead()
    {
        var (code, output, _) = Run("""{"messages":[{"role":"user","content":"hi"}],"add_generation_prompt":false}""", "--template", s_mistral, "--request", "-", "--bos", "<s>");

        Assert.Equal(0, code);
        Assert.Equal("<s>[INST]hi[/INST]", output);
    }

    [Fact]
    public void Run_TemplateRaisesException_ExitsWithCode2AndMessage()
    {
        var (code, output, error) = Run("""{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}""", "--template", s_mistral, "--request", "-");

        Assert.Equal(RenderTemplateCommand.ExitError, code);
        Assert.Equal("", output);
        Assert.Contains("conversation roles must alternate", error, StringComparison.Ordinal);
        Assert.Contains("template line 18", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnsupportedTemplate_ExitsWithCode2AndPosition()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.jinja");
        File.WriteAllText(path, "ok\n{% include 'x' %}");
        try
        {
            var (code, _, error) = Run("""{"messages":[]}""", "--template", path, "--request", "-");

            Assert.Equal(RenderTemplateCommand.ExitError, code);
            Assert.Contains("unsupported statement 'include'", error, StringComparison.Ordinal);
            Assert.Contains("line 2, col 4", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("--template")]
    [InlineData("--request", "r.json")]
    [InlineData("--bogus")]
    public void Run_BadArguments_ExitsWithCode2AndUsage(params string[] args)
    {
        var (code, output, error) = Run("", args);

        Assert.Equal(RenderTemplateCommand.ExitError, code);
        Assert.Equal("", output);
        Assert.Contains("usage: render-template", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MalformedRequestJson_ExitsWithCode2()
    {
        var (code, _, error) = Run("{not json", "--template", s_mistral, "--request", "-");

        Assert.Equal(RenderTemplateCommand.ExitError, code);
        Assert.StartsWith("error:", error, StringComparison.Ordinal);
    }
}
