using System.Runtime.InteropServices;
using System.Text;
using Edge.Storage.Postgres;

namespace Edge.Storage.Tests.Postgres;

public sealed class PgTextTests
{
    [Fact]
    public void Json_without_a_nul_escape_is_passed_through_without_a_copy()
    {
        var json = Encoding.UTF8.GetBytes("{\"status\":\"online\",\"note\":\"a\\u0001b\"}");

        var cleaned = PgText.CleanJson(json);

        Assert.True(MemoryMarshal.TryGetArray(cleaned, out var segment));
        Assert.Same(json, segment.Array);
    }

    [Theory]
    [InlineData("{\"s\":\"a\\u0000b\"}", "{\"s\":\"a\\ufffdb\"}")]
    [InlineData("{\"s\":\"\\u0000\\u0000\"}", "{\"s\":\"\\ufffd\\ufffd\"}")]
    [InlineData("{\"s\":\"\\\\\\u0000\"}", "{\"s\":\"\\\\\\ufffd\"}")] // an escaped backslash, then a NUL escape
    [InlineData("{\"s\":\"\\\\u0000\",\"t\":\"\\u0000\"}", "{\"s\":\"\\\\u0000\",\"t\":\"\\ufffd\"}")] // literal text "\u0000" stays
    [InlineData("{\"\\u0000\":1}", "{\"\\ufffd\":1}")]
    [InlineData("{\"s\":\"\\u00001\"}", "{\"s\":\"\\ufffd1\"}")]
    public void Nul_escapes_become_replacement_characters_and_nothing_else_changes(string json, string expected)
    {
        Assert.Equal(expected, Encoding.UTF8.GetString(PgText.CleanJson(Encoding.UTF8.GetBytes(json)).Span));
    }

    [Fact]
    public void Text_loses_only_its_nul_characters()
    {
        const string clean = "online";
        Assert.Same(clean, PgText.Clean(clean));
        Assert.Equal("a\uFFFDb\uFFFD", PgText.Clean("a\0b\0"));
        Assert.Null(PgText.CleanOrNull(null));
    }
}
