using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Edge.Storage.Queries;

namespace Edge.Storage.Tests.Queries;

public sealed class TelemetryCursorTests
{
    private static readonly TelemetryCursor Sample = new(
        new DateTimeOffset(2026, 1, 14, 10, 22, 7, 123, TimeSpan.FromHours(2)).AddTicks(4567),
        new DateTimeOffset(2026, 1, 14, 8, 22, 7, 373, TimeSpan.Zero).AddTicks(10), 1_768_000_000_000, 4711,
        Guid.Parse("0b9e4f3c-5d2a-5e8b-9c41-7f1a2b3c4d5e"));

    [Fact]
    public void A_cursor_round_trips_through_a_URL_safe_token_to_the_tick()
    {
        var token = Sample.Encode();

        Assert.Equal(TelemetryCursor.EncodedLength, token.Length);
        Assert.All(token, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' is not URL-safe"));
        Assert.Equal(token, Sample.ToString());
        Assert.True(TelemetryCursor.TryParse(token, out var parsed, out var reason));
        Assert.Empty(reason);
        Assert.Equal(Sample, parsed);
        Assert.Equal(Sample.DeviceTime.UtcTicks, parsed.DeviceTime.UtcTicks);
        Assert.Equal(TimeSpan.Zero, parsed.DeviceTime.Offset);
        Assert.Equal((Sample.ReceivedAt.UtcTicks, 1_768_000_000_000L, 4711L), (parsed.ReceivedAt.UtcTicks, parsed.Epoch, parsed.Sequence));
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z", "00000000-0000-0000-0000-000000000000")]
    [InlineData("9999-12-31T23:59:59.9999999Z", "ffffffff-ffff-ffff-ffff-ffffffffffff")]
    [InlineData("1970-01-01T00:00:00Z", "80000000-0000-0000-0000-000000000001")]
    public void Extreme_times_and_ids_round_trip(string time, string id)
    {
        var at = DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture);
        var cursor = new TelemetryCursor(at, at, long.MaxValue, long.MinValue, Guid.Parse(id));

        Assert.True(TelemetryCursor.TryParse(cursor.Encode(), out var parsed, out _));
        Assert.Equal(cursor, parsed);
    }

    [Fact]
    public void Changing_any_one_character_is_noticed()
    {
        var token = Sample.Encode();
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        for (var position = 0; position < token.Length; position++)
        {
            foreach (var replacement in Alphabet)
            {
                if (replacement == token[position])
                {
                    continue;
                }
                var edited = string.Concat(token.AsSpan(0, position), replacement.ToString(), token.AsSpan(position + 1));

                Assert.False(TelemetryCursor.TryParse(edited, out var cursor, out var reason), $"{edited} was accepted");
                Assert.Null(cursor);
                Assert.NotEmpty(reason);
            }
        }
    }

    [Theory]
    [InlineData(null, "cursor is empty")]
    [InlineData("", "cursor is empty")]
    [InlineData("abc", "cursor has 3 characters, a valid one has 71")]
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor has 50 characters")]
    [InlineData("Ag+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor has a character at position 3 that is not base64url")]
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "cursor has a character at position 71 that is not base64url")]
    [InlineData("AgAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor has a character at position 19 that is not base64url")]
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor is damaged")]
    public void A_token_that_is_not_a_cursor_gives_a_reason_and_no_exception(string? token, string reason)
    {
        Assert.False(TelemetryCursor.TryParse(token, out var cursor, out var why));

        Assert.Null(cursor);
        Assert.StartsWith(reason, why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cursor_of_an_unknown_version_is_refused_by_name_even_with_a_sound_check()
    {
        var bytes = new byte[53];
        bytes[0] = 3;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), Sample.DeviceTime.UtcTicks);
        SHA256.HashData(bytes.AsSpan(0, 49)).AsSpan(0, 4).CopyTo(bytes.AsSpan(49));

        Assert.False(TelemetryCursor.TryParse(Base64Url.EncodeToString(bytes), out _, out var reason));
        Assert.Equal("cursor version 3 is not one this server reads (version 2); start the listing again without a cursor", reason);
    }

    [Fact]
    public void A_version_1_cursor_from_before_arrival_order_is_refused_with_a_reason()
    {
        var bytes = new byte[29];
        bytes[0] = 1;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), Sample.DeviceTime.UtcTicks);
        SHA256.HashData(bytes.AsSpan(0, 25)).AsSpan(0, 4).CopyTo(bytes.AsSpan(25));

        Assert.False(TelemetryCursor.TryParse(Base64Url.EncodeToString(bytes), out _, out var reason));
        Assert.Equal("cursor has 39 characters, a valid one has 71; pass it exactly as a previous page returned it", reason);
    }

    [Fact]
    public void A_well_formed_token_with_a_time_out_of_range_is_refused()
    {
        var bytes = new byte[53];
        bytes[0] = 2;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(9), -1);
        SHA256.HashData(bytes.AsSpan(0, 49)).AsSpan(0, 4).CopyTo(bytes.AsSpan(49));

        Assert.False(TelemetryCursor.TryParse(Base64Url.EncodeToString(bytes), out _, out var reason));
        Assert.Equal("cursor holds a time out of range", reason);
    }

    [Fact]
    public void Random_tokens_never_throw()
    {
        var random = new Random(20260115);
        const string Characters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ %\0é";
        for (var i = 0; i < 20_000; i++)
        {
            var length = i % 3 == 0 ? TelemetryCursor.EncodedLength : random.Next(0, 80);
            var token = new string([.. Enumerable.Range(0, length).Select(_ => Characters[random.Next(i % 2 == 0 ? 64 : Characters.Length)])]);

            Assert.False(TelemetryCursor.TryParse(token, out _, out var reason));
            Assert.NotEmpty(reason);
        }
    }
}
