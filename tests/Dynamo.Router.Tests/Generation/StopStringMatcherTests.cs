using Dynamo.Router.Generation;

namespace Dynamo.Router.Tests.Generation;

public sealed class StopStringMatcherTests
{
    [Fact]
    public void Push_StopStringSplitAcrossThreePieces_HoldsItBackAndCutsBeforeIt()
    {
        var matcher = new StopStringMatcher(["</end>"]);

        var a = matcher.Push("Hello </");
        var b = matcher.Push("en");
        var c = matcher.Push("d> trailing");

        Assert.Equal("Hello ", a);
        Assert.Equal("", b);
        Assert.Equal("", c);
        Assert.True(matcher.Stopped);
        Assert.Equal("", matcher.Push("more"));
    }

    [Fact]
    public void Push_PrefixThatDoesNotContinue_ReleasesTheHeldTextWithTheNextPiece()
    {
        var matcher = new StopStringMatcher(["STOP"]);

        var a = matcher.Push("abc ST");
        var b = matcher.Push("ART");

        Assert.Equal("abc ", a);
        Assert.Equal("START", b);
        Assert.False(matcher.Stopped);
        Assert.Equal(0, matcher.HeldLength);
    }

    [Fact]
    public void Push_TwoStopStrings_CutsAtTheEarliestMatch()
    {
        var matcher = new StopStringMatcher(["world", "lo w"]);

        Assert.Equal("hel", matcher.Push("hello world"));
        Assert.True(matcher.Stopped);
    }

    [Fact]
    public void Flush_StreamEndsWhileHoldingAPrefix_ReleasesIt()
    {
        var matcher = new StopStringMatcher(["\n\nUser:"]);

        var shown = matcher.Push("answer\n\nUs");
        var rest = matcher.Flush();

        Assert.Equal("answer", shown);
        Assert.Equal("\n\nUs", rest);
    }

    [Fact]
    public void Push_NoStopStrings_PassesEverythingThrough()
    {
        var matcher = new StopStringMatcher([]);

        Assert.Equal("any text", matcher.Push("any text"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Push_OneCharacterAtATime_ShowsExactlyTheTextBeforeTheStop()
    {
        var matcher = new StopStringMatcher(["abcd", "bce"]);
        var shown = string.Concat("xxabcabcex".Select(c => matcher.Push(c.ToString())));

        Assert.Equal("xxabca", shown);
        Assert.True(matcher.Stopped);
    }

    [Fact]
    public void Constructor_EmptyStopString_Throws() =>
        Assert.Throws<ArgumentException>(() => new StopStringMatcher([""]));
}
