using System.Net;
using Edge.Agent.Broker;
using Edge.Agent.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Edge.Testing.Logging;

namespace Edge.Agent.Tests.Broker;

public sealed class FailedConnectLimiterTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly RecordedLogs _log = new();

    [Fact]
    public void An_address_over_the_limit_is_refused_until_its_window_ends_and_logged_once_per_window()
    {
        var limiter = Limiter(maxPerAddress: 3, windowSeconds: 60);
        var attacker = IPAddress.Parse("10.0.0.66");

        for (var i = 0; i < 3; i++)
        {
            Assert.False(limiter.IsBlocked(attacker));
            limiter.RecordFailure(attacker);
        }
        for (var i = 0; i < 10; i++)
        {
            Assert.True(limiter.IsBlocked(attacker));
        }
        Assert.False(limiter.IsBlocked(IPAddress.Parse("10.0.0.67")));
        Assert.Equal(10, limiter.Refused);
        Assert.Equal(1, _log.Count(2030));
        Assert.Contains("10.0.0.66", _log.Entries.Single().Message, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.False(limiter.IsBlocked(attacker));

        // A new window counts from zero, and its block is logged once more.
        for (var i = 0; i < 5; i++)
        {
            limiter.RecordFailure(attacker);
        }
        Assert.True(limiter.IsBlocked(attacker));
        Assert.Equal(2, _log.Count(2030));
    }

    [Fact]
    public void Failures_spread_over_more_than_a_window_never_block()
    {
        var limiter = Limiter(maxPerAddress: 3, windowSeconds: 60);
        var device = IPAddress.Parse("10.0.0.12");

        // A device with a wrong secret retrying every 30 s: two failures per window.
        for (var i = 0; i < 20; i++)
        {
            limiter.RecordFailure(device);
            Assert.False(limiter.IsBlocked(device));
            _time.Advance(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, limiter.Refused);
        Assert.Equal(0, _log.Count(2030));
    }

    [Fact]
    public void An_ipv6_host_is_counted_by_its_64_and_a_mapped_ipv4_address_as_the_ipv4_address()
    {
        var limiter = Limiter(maxPerAddress: 2, windowSeconds: 60);

        limiter.RecordFailure(IPAddress.Parse("2001:db8:0:1::a"));
        limiter.RecordFailure(IPAddress.Parse("2001:db8:0:1:ffff::b"));
        Assert.True(limiter.IsBlocked(IPAddress.Parse("2001:db8:0:1::c")));
        Assert.False(limiter.IsBlocked(IPAddress.Parse("2001:db8:0:2::a")));
        Assert.Contains("2001:db8:0:1::/64", _log.Entries.Single().Message, StringComparison.Ordinal);

        limiter.RecordFailure(IPAddress.Parse("::ffff:192.0.2.7"));
        limiter.RecordFailure(IPAddress.Parse("192.0.2.7"));
        Assert.True(limiter.IsBlocked(IPAddress.Parse("192.0.2.7")));
    }

    private FailedConnectLimiter Limiter(int maxPerAddress, int windowSeconds) =>
        new(Options.Create(new FailedConnectOptions { MaxPerAddress = maxPerAddress, WindowSeconds = windowSeconds }), _time, _log.For<FailedConnectLimiter>());
}
