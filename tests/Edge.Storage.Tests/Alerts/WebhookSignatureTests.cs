using System.Text;
using Edge.Storage.Alerts;

namespace Edge.Storage.Tests.Alerts;

public sealed class WebhookSignatureTests
{
    private const string Secret = "whsec-test-0123456789abcdefghijklmnopqrstuvwxyz";
    private const long Timestamp = 1768478400; // 2026-01-15T12:00:00Z
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"type":"alert.raised"}""");

    [Fact]
    public void The_signature_is_sha256_hex_hmac_of_timestamp_dot_body()
    {
        // Python: hmac.new(secret, b'1768478400.' + body, hashlib.sha256).hexdigest()
        Assert.Equal("sha256=35633834b074770ae347aa652dbe29191740d3b52374785a8e0931386c128394",
            WebhookSignature.Compute(Secret, Timestamp, Body));
    }

    [Fact]
    public void Verify_accepts_the_signature_and_refuses_any_change()
    {
        var signature = WebhookSignature.Compute(Secret, Timestamp, Body);

        Assert.True(WebhookSignature.Verify(Secret, Timestamp, Body, signature));
        Assert.True(WebhookSignature.Verify(Secret, Timestamp, Body, signature.ToUpperInvariant().Replace("SHA256=", "sha256=", StringComparison.Ordinal)));
        Assert.False(WebhookSignature.Verify(Secret + "x", Timestamp, Body, signature));
        Assert.False(WebhookSignature.Verify(Secret, Timestamp + 1, Body, signature));
        Assert.False(WebhookSignature.Verify(Secret, Timestamp, Encoding.UTF8.GetBytes("""{"type":"alert.raised" }"""), signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("35633834b074770ae347aa652dbe29191740d3b52374785a8e0931386c128394")]
    [InlineData("sha1=35633834b074770ae347aa652dbe29191740d3b52374785a8e0931386c128394")]
    [InlineData("sha256=35633834b074770ae347aa652dbe29191740d3b52374785a8e0931386c12839")]
    [InlineData("sha256=zz633834b074770ae347aa652dbe29191740d3b52374785a8e0931386c128394")]
    public void Verify_refuses_malformed_signature_headers(string? header)
    {
        Assert.False(WebhookSignature.Verify(Secret, Timestamp, Body, header));
    }

    [Fact]
    public void The_header_overload_checks_that_the_timestamp_is_recent()
    {
        var signature = WebhookSignature.Compute(Secret, Timestamp, Body);
        var sent = DateTimeOffset.FromUnixTimeSeconds(Timestamp);

        Assert.True(WebhookSignature.Verify(Secret, "1768478400", Body, signature, sent.AddMinutes(4), WebhookSignature.DefaultTolerance));
        Assert.True(WebhookSignature.Verify(Secret, "1768478400", Body, signature, sent.AddMinutes(-4), WebhookSignature.DefaultTolerance));
        Assert.False(WebhookSignature.Verify(Secret, "1768478400", Body, signature, sent.AddMinutes(6), WebhookSignature.DefaultTolerance));
        Assert.False(WebhookSignature.Verify(Secret, "-1768478400", Body, signature, sent, WebhookSignature.DefaultTolerance));
        Assert.False(WebhookSignature.Verify(Secret, null, Body, signature, sent, WebhookSignature.DefaultTolerance));
    }
}
