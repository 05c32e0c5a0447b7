using System.Text;
using Dynamo.Runtime.Guided;

namespace Dynamo.Runtime.Tests.Guided;

public sealed class JsonGrammarMatcherTests
{
    [Theory]
    [InlineData("""{"type":"string"}""", "\"hello\"")]
    [InlineData("""{"type":"string"}""", "\"esc \\\" \\\\ \\n \\u00e9\"")]
    [InlineData("""{"type":"string"}""", "\"caf\u00e9 \u6211 \U0001F999\"")]
    [InlineData("""{"type":"integer"}""", "-120")]
    [InlineData("""{"type":"integer"}""", "0")]
    [InlineData("""{"type":"number"}""", "3.25e-7")]
    [InlineData("""{"type":"number"}""", "-0.5")]
    [InlineData("""{"type":"boolean"}""", "false")]
    [InlineData("""{"type":"null"}""", "null")]
    [InlineData("""{"type":["string","null"]}""", "null")]
    [InlineData("""{"enum":["red","green",3,null]}""", "\"green\"")]
    [InlineData("""{"enum":[1,12]}""", "1")]
    [InlineData("""{"enum":[1,12]}""", "12")]
    [InlineData("""{"const":{"a":[1,true]}}""", """{"a":[1,true]}""")]
    [InlineData("""{"type":"array","items":{"type":"integer"}}""", "[1, 2,3]")]
    [InlineData("""{"type":"array","items":{"type":"integer"}}""", "[]")]
    [InlineData("""{"type":"array","minItems":1,"maxItems":2}""", "[{\"x\": [null]}, \"y\"]")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"]}""", """{"a": 1, "b": "x"}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"]}""", """{"b":"x"}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true}""", """{"a":1,"zz":[1,{}]}""")]
    [InlineData("""{"type":"object"}""", """{ "any" : { "nested" : [1, "two", false] } }""")]
    [InlineData("""{"anyOf":[{"type":"object","properties":{"name":{"const":"a"},"x":{"type":"integer"}},"required":["name","x"]},{"type":"object","properties":{"name":{"const":"b"},"y":{"type":"boolean"}},"required":["name","y"]}]}""", """{"name":"b","y":true}""")]
    [InlineData("""{"oneOf":[{"type":"integer"},{"type":"string","maxLength":2}]}""", "\"ab\"")]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"abc\"")]
    [InlineData("""{"$defs":{"node":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["next"]}},"$ref":"#/$defs/node"}""", """{"next":{"next":null}}""")]
    [InlineData("""{"type":"object","properties":{"q\"uote":{"type":"integer"}},"required":["q\"uote"]}""", """{"q\"uote":1}""")]
    [InlineData("""{}""", "  [1, \"a\", {\"b\": null}]")]
    public void Accepts_ValidDocument_ReturnsTrue(string schema, string json) =>
        Assert.True(JsonSchemaGrammar.Compile(schema).Accepts(json));

    [Theory]
    [InlineData("""{"type":"string"}""", "\"unterminated")]
    [InlineData("""{"type":"string"}""", "\"bad \\x escape\"")]
    [InlineData("""{"type":"string"}""", "\"raw \n newline\"")]
    [InlineData("""{"type":"integer"}""", "1.5")]
    [InlineData("""{"type":"integer"}""", "01")]
    [InlineData("""{"type":"number"}""", "1.")]
    [InlineData("""{"type":"number"}""", "-")]
    [InlineData("""{"type":"boolean"}""", "tru")]
    [InlineData("""{"type":"null"}""", "0")]
    [InlineData("""{"enum":["red","green"]}""", "\"blue\"")]
    [InlineData("""{"enum":[1,12]}""", "123")]
    [InlineData("""{"const":"x"}""", "\"x\" ")]
    [InlineData("""{"type":"array","items":{"type":"integer"}}""", "[1,]")]
    [InlineData("""{"type":"array","items":{"type":"integer"}}""", "[\"a\"]")]
    [InlineData("""{"type":"array","minItems":1}""", "[]")]
    [InlineData("""{"type":"array","maxItems":1}""", "[1,2]")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"]}""", """{"a":1}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"]}""", """{"b":"x","a":1}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}}}""", """{"a":1,"c":2}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false}""", """{"c":2}""")]
    [InlineData("""{"anyOf":[{"type":"object","properties":{"name":{"const":"a"},"x":{"type":"integer"}},"required":["name","x"]},{"type":"object","properties":{"name":{"const":"b"},"y":{"type":"boolean"}},"required":["name","y"]}]}""", """{"name":"b","x":1}""")]
    [InlineData("""{"type":"string","minLength":2}""", "\"a\"")]
    [InlineData("""{"type":"string","maxLength":2}""", "\"abc\"")]
    [InlineData("""{"type":"object"}""", "[]")]
    [InlineData("""{}""", "{\"a\" 1}")]
    public void Accepts_InvalidDocument_ReturnsFalse(string schema, string json) =>
        Assert.False(JsonSchemaGrammar.Compile(schema).Accepts(json));

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}""", """{"a":1""")]
    [InlineData("""{"type":"string"}""", "\"abc")]
    [InlineData("""{"type":"array"}""", "[1, [2")]
    [InlineData("""{"enum":["alpha","beta"]}""", "\"al")]
    public void TryAdvance_ValidPrefix_AcceptsButCannotFinish(string schema, string prefix)
    {
        var matcher = new JsonGrammarMatcher(JsonSchemaGrammar.Compile(schema));

        Assert.True(matcher.TryAdvance(Encoding.UTF8.GetBytes(prefix)));
        Assert.False(matcher.CanFinish);
    }

    [Fact]
    public void TryAdvance_RefusedByteInSpan_LeavesStateUnchanged()
    {
        var matcher = new JsonGrammarMatcher(JsonSchemaGrammar.Compile("""{"type":"array","items":{"type":"integer"}}"""));
        Assert.True(matcher.TryAdvance("[1"u8));

        Assert.False(matcher.TryAdvance(",x"u8));
        Assert.True(matcher.TryAdvance(",2]"u8));
        Assert.True(matcher.IsDone);
    }

    [Fact]
    public void TryAdvance_LongWhitespaceRun_IsCapped()
    {
        var matcher = new JsonGrammarMatcher(JsonSchemaGrammar.AnyValue);

        Assert.True(matcher.TryAdvance(Encoding.ASCII.GetBytes(new string(' ', 16))));
        Assert.False(matcher.TryAdvance((byte)' '));
        Assert.True(matcher.TryAdvance((byte)'1'));
    }

    [Fact]
    public void CanFinish_TopLevelNumber_TrueOnceADigitIsIn()
    {
        var matcher = new JsonGrammarMatcher(JsonSchemaGrammar.Compile("""{"type":"number"}"""));
        Assert.True(matcher.TryAdvance("-"u8));
        Assert.False(matcher.CanFinish);

        Assert.True(matcher.TryAdvance("4"u8));
        Assert.True(matcher.CanFinish);
        Assert.False(matcher.IsDone);
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^a"}""", "pattern")]
    [InlineData("""{"type":"integer","minimum":1}""", "minimum")]
    [InlineData("""{"allOf":[{"type":"string"}]}""", "allOf")]
    [InlineData("""{"type":"object","properties":{"a":{"not":{}}}}""", "not")]
    [InlineData("""{"type":"object","patternProperties":{}}""", "patternProperties")]
    [InlineData("""{"type":"unicorn"}""", "type")]
    [InlineData("""{"enum":[]}""", "enum")]
    [InlineData("""{"type":"object","properties":{"a":{}},"required":["b"]}""", "required")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "$ref")]
    [InlineData("""{"type":"string","anyOf":[{"maxLength":1}]}""", "anyOf")]
    public void Compile_UnsupportedOrInvalidKeyword_ThrowsNamingIt(string schema, string keyword)
    {
        var ex = Assert.Throws<JsonSchemaException>(() => JsonSchemaGrammar.Compile(schema));

        Assert.Equal(keyword, ex.Keyword);
        Assert.Contains(keyword, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_NotJson_ThrowsSchemaException() =>
        Assert.Throws<JsonSchemaException>(() => JsonSchemaGrammar.Compile("{\"type\":"));

    [Fact]
    public void Compile_AnnotationsOnly_AreIgnored() =>
        Assert.True(JsonSchemaGrammar.Compile("""{"title":"T","description":"d","type":"string","format":"date","default":"x"}""").Accepts("\"2024\""));
}
