using System.Text.Json;
using Dynamo.Router.Parsers;

namespace Dynamo.Router.Tests.Parsers;

/// <summary>The incremental scanner must agree with System.Text.Json on where a document is valid and where it ends.</summary>
public sealed class JsonScannerTests
{
    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"a\": [1, -0.5, 2e10, 3E-2, 0, true, false, null, \"x\\u00e9\\n\\\"\"], \"b\": {\"c\": {}}}")]
    [InlineData("[[[]], {\"k\": \"}\"}, \"]\"]")]
    [InlineData("{ \"a\" :\t1 ,\n\"b\" : 2 }")]
    [InlineData("{\"emoji\": \"🌸\", \"cjk\": \"東京\"}")]
    public void Feed_ValidDocument_DoneExactlyAtLastCharacter(string json)
    {
        using var _ = JsonDocument.Parse(json);
        var scanner = new JsonScanner();

        for (var i = 0; i < json.Length; i++)
        {
            Assert.True(scanner.Feed(json[i]), $"rejected at {i}");
            Assert.Equal(i == json.Length - 1, scanner.IsDone);
        }

        Assert.False(scanner.Feed(' '));
    }

    [Theory]
    [InlineData("{\"a\": 1,}", 8)]
    [InlineData("{\"a\" 1}", 5)]
    [InlineData("{a: 1}", 1)]
    [InlineData("{\"a\": 01}", 7)]
    [InlineData("{\"a\": tru }", 9)]
    [InlineData("{\"a\": \"\\x\"}", 8)]
    [InlineData("{\"a\": -}", 7)]
    [InlineData("[1 2]", 3)]
    [InlineData("[1}", 2)]
    [InlineData("{\"a\": 'b'}", 6)]
    [InlineData("{\"a\": \"line\nbreak\"}", 11)]
    public void Feed_InvalidDocument_RejectsAtFirstBadCharacter(string json, int badAt)
    {
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(json));
        var scanner = new JsonScanner();

        for (var i = 0; i < badAt; i++)
        {
            Assert.True(scanner.Feed(json[i]), $"rejected early at {i}");
        }

        Assert.False(scanner.Feed(json[badAt]));
    }

    [Theory]
    [InlineData("\"top\"")]
    [InlineData("42")]
    [InlineData("true")]
    public void Feed_ScalarAtTopLevel_Rejected(string json)
    {
        Assert.False(new JsonScanner().Feed(json[0]));
    }

    [Fact]
    public void Feed_MemberValues_ReportStartAndEndAtDepthOne()
    {
        const string Json = "{\"n\": 12, \"o\": {\"x\": [1]}}";
        var scanner = new JsonScanner();
        var starts = new List<int>();
        var ends = new List<int>();

        for (var i = 0; i < Json.Length; i++)
        {
            Assert.True(scanner.Feed(Json[i]));
            if (scanner.StartedValue && scanner.StartDepth == 1)
            {
                starts.Add(i);
            }

            if (scanner.EndedValueBefore && scanner.EndBeforeDepth == 1)
            {
                ends.Add(i - 1);
            }

            if (scanner.EndedValue && scanner.EndDepth == 1)
            {
                ends.Add(i);
            }
        }

        Assert.Equal([6, 15], starts);
        Assert.Equal([7, 24], ends);
    }
}
