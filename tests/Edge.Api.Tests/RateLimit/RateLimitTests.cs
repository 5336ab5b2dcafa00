using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Api;
using Edge.Testing.Metrics;
using Edge.Testing.Postgres;
using Edge.Testing.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Edge.Api.Tests.RateLimit;

/// <summary>
/// The API's rate limits as an abusive client meets them: a token that hammers an endpoint, an anonymous address that
/// does, a token spreading its requests over two replicas that share one Redis, a token opening live streams without
/// end, and Redis going away under the replicas.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class RateLimitTests(PostgresServer server) : ApiTest(server)
{
    private const string Oxygen = "OXY-8844-5521";

    // A long window, so a fixed window never rolls over in the middle of a test and hands out a second budget.
    private const int WindowSeconds = 600;

    private readonly MetricsEndpoint _metrics = new();

    protected override string[] ApiSettings() =>
    [
        .. _metrics.Arguments,
        // The admin client sets up clinics and devices; the attacks use tokens of their own subjects.
        "--Api:RateLimit:TokenPermitLimit=5",
        "--Api:RateLimit:AddressPermitLimit=4",
        $"--Api:RateLimit:WindowSeconds={WindowSeconds}",
        "--Api:RateLimit:LiveViewersPerToken=2",
    ];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _metrics.Dispose();
    }

    [Fact]
    public async Task A_token_hammering_an_endpoint_gets_429_with_Retry_After_and_other_tokens_are_still_served()
    {
        using var hammer = Api.Client(Api.Token("clinician", ["north"], subject: "script-in-a-loop"));
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 8; i++)
        {
            var response = await hammer.GetAsync("/v1/clinics");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused ??= response;
            }
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
        AssertRetryAfter(refused!);
        Assert.Equal("application/problem+json", refused!.Content.Headers.ContentType?.MediaType);
        var problem = await ReadAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Contains("Api:RateLimit:TokenPermitLimit", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The limit is the token's, not the endpoint's or the address's: another subject is served.
        using var colleague = Api.Client(Api.Token("clinician", ["north"], subject: "a-colleague"));
        Assert.Equal(HttpStatusCode.OK, (await colleague.GetAsync("/v1/clinics")).StatusCode);

        var text = await _metrics.ScrapeAsync();
        Assert.Equal(3, MetricsEndpoint.Value(text, "edge_api_rate_limit_rejected_total", "limit=\"token\""));
    }

    [Fact]
    public async Task Anonymous_requests_are_limited_per_address_and_tokens_keep_their_own_budget()
    {
        using var anonymous = Api.Client(token: null);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await anonymous.GetAsync("/healthz")).StatusCode);
        }
        statuses.Add((await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
        // A request with no token to a protected endpoint spends the same address's budget (its 401 costs a token check).
        var fifth = await anonymous.GetAsync("/v1/clinics");
        var sixth = await anonymous.GetAsync("/healthz");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, fifth.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        AssertRetryAfter(sixth);
        var problem = await ReadAsync(sixth, HttpStatusCode.TooManyRequests);
        Assert.Contains("Api:RateLimit:AddressPermitLimit", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A forged token counts as no token at all: it cannot buy a fresh budget per made-up subject.
        using var forged = Api.Client("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmb3JnZWQifQ.c2lnbmF0dXJl");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await forged.GetAsync("/v1/clinics")).StatusCode);

        using var signedIn = Api.Client(Api.Token("clinician", ["north"], subject: "from-the-same-address"));
        Assert.Equal(HttpStatusCode.OK, (await signedIn.GetAsync("/v1/clinics")).StatusCode);

        Assert.Equal(3, MetricsEndpoint.Value(await _metrics.ScrapeAsync(), "edge_api_rate_limit_rejected_total", "limit=\"address\""));
    }

    [Fact]
    public async Task Two_replicas_sharing_one_redis_hold_one_limit_for_a_token()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string[] shared = [$"--Api:Auth:SigningKey={key}", $"--Api:RateLimit:Redis={redis.ConnectionString}", "--Api:RateLimit:TokenPermitLimit=6", "--Api:RateLimit:AddressPermitLimit=4", $"--Api:RateLimit:WindowSeconds={WindowSeconds}"];
        await using var first = await InProcessApi.StartAsync(ConnectionString, shared);
        await using var second = await InProcessApi.StartAsync(ConnectionString, shared);
        var token = first.Token("clinician", ["north"], subject: "spreads-over-replicas");
        HttpClient[] replicas = [first.Client(token), second.Client(token)];

        var accepted = 0;
        var refused = 0;
        for (var i = 0; i < 16; i++)
        {
            var response = await replicas[i % 2].GetAsync("/v1/clinics");
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"request {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                accepted++;
            }
            else
            {
                refused++;
                AssertRetryAfter(response);
            }
        }

        // In-process limits would have let 6 through each replica: 12.
        Assert.Equal(6, accepted);
        Assert.Equal(10, refused);

        // Anonymous addresses too: 4 in all, not 4 per replica.
        HttpClient[] anonymous = [first.Client(null), second.Client(null)];
        var healthy = 0;
        for (var i = 0; i < 10; i++)
        {
            if ((await anonymous[i % 2].GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
            {
                healthy++;
            }
        }
        Assert.Equal(4, healthy);
    }

    [Fact]
    public async Task With_redis_down_each_replica_keeps_limiting_on_its_own_and_the_shared_limit_returns_with_redis()
    {
        await using var redis = await RedisServer.StartNewAsync();
        using var firstMetrics = new MetricsEndpoint();
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string[] shared = [$"--Api:Auth:SigningKey={key}", $"--Api:RateLimit:Redis={redis.ConnectionString}", "--Api:RateLimit:TokenPermitLimit=3", $"--Api:RateLimit:WindowSeconds={WindowSeconds}"];
        await using var first = await InProcessApi.StartAsync(ConnectionString, [.. shared, .. firstMetrics.Arguments]);
        await using var second = await InProcessApi.StartAsync(ConnectionString, shared);

        await redis.StopAsync();

        // Fail open to each replica's own limit: requests are served (never a 500) and a hammering token still stops.
        using var hammer = first.Client(first.Token("clinician", ["north"], subject: "during-the-outage"));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await hammer.GetAsync("/v1/clinics")).StatusCode);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.True(MetricsEndpoint.Value(await firstMetrics.ScrapeAsync(), "edge_api_rate_limit_redis_failures_total") > 0, "Redis failures are counted");

        await redis.StartAsync();

        // Back to one limit across both replicas once they have reconnected: a fresh subject gets 3 in all, not 3 each.
        var attempt = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                var token = first.Token("clinician", ["north"], subject: $"after-the-outage-{attempt++}");
                using var viaFirst = first.Client(token);
                using var viaSecond = second.Client(token);
                var accepted = 0;
                for (var i = 0; i < 6; i++)
                {
                    var response = await (i % 2 == 0 ? viaFirst : viaSecond).GetAsync("/v1/clinics");
                    accepted += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
                }
                return accepted == 3;
            },
            TimeSpan.FromSeconds(60), "both replicas sharing Redis's counters again");
    }

    [Fact]
    public async Task A_token_cannot_open_more_live_streams_than_its_cap()
    {
        await CreateClinicAsync("north");
        await RegisterDeviceAsync(Oxygen, "north");
        var token = Api.Token("clinician", ["north"], subject: "opens-streams-without-end");

        using var one = await ConnectAsync(token);
        using var two = await ConnectAsync(token);
        using var three = new ClientWebSocket();
        three.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(three, token));
        Assert.Equal(HttpStatusCode.TooManyRequests, three.HttpStatusCode);

        // The cap is the token's: a colleague still connects.
        using var colleague = await ConnectAsync(Api.Token("clinician", ["north"], subject: "a-colleague"));

        // Closing a stream gives its place back.
        await one.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        ClientWebSocket? again = null;
        await Eventually.TrueAsync(
            async () =>
            {
                var socket = new ClientWebSocket();
                try
                {
                    await ConnectAsync(socket, token);
                    again = socket;
                    return true;
                }
                catch (WebSocketException)
                {
                    socket.Dispose();
                    return false;
                }
            },
            TimeSpan.FromSeconds(30), "a place among the token's live streams after one closed");
        again!.Dispose();

        Assert.Equal(1, MetricsEndpoint.Value(await _metrics.ScrapeAsync(), "edge_api_rate_limit_rejected_total", "limit=\"live_viewers\""));
    }

    [Fact]
    public async Task A_token_cannot_open_more_live_alert_streams_than_its_cap_counted_apart_from_reading_streams()
    {
        await CreateClinicAsync("north");
        await RegisterDeviceAsync(Oxygen, "north");
        var token = Api.Token("clinician", ["north"], subject: "opens-alert-streams-without-end");

        using var one = await ConnectAsync(token, "/v1/alerts/live");
        using var two = await ConnectAsync(token, "/v1/alerts/live");
        using var three = new ClientWebSocket();
        three.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(three, token, "/v1/alerts/live"));
        Assert.Equal(HttpStatusCode.TooManyRequests, three.HttpStatusCode);

        // The inbox's streams do not use up the device pages' places.
        using var reading = await ConnectAsync(token);
    }

    [Fact]
    public async Task Without_settings_the_documented_defaults_apply()
    {
        // The test harness raises the limits for every other test (they poll while they wait); a bare build does not.
        await using var app = Edge.Api.Hosting.ApiApplication.Build([]);
        var options = app.Services.GetRequiredService<IOptions<Edge.Api.RateLimit.RateLimitOptions>>().Value;

        Assert.Equal((600, 120, 60, 20, null), (options.TokenPermitLimit, options.AddressPermitLimit, options.WindowSeconds, options.LiveViewersPerToken, options.Redis));
    }

    [Theory]
    [InlineData("Api:RateLimit:TokenPermitLimit", "0")]
    [InlineData("Api:RateLimit:AddressPermitLimit", "-1")]
    [InlineData("Api:RateLimit:WindowSeconds", "0")]
    [InlineData("Api:RateLimit:LiveViewersPerToken", "0")]
    [InlineData("Api:RateLimit:Redis", "127.0.0.1:6379,nonsense=1")]
    [InlineData("Api:RateLimit:RedisPasswordFile", "/nonexistent/redis-password")]
    public async Task A_bad_limit_stops_the_api_at_start_naming_the_setting(string setting, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => InProcessApi.StartAsync(ConnectionString, $"--{setting}={value}"));
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    private static void AssertRetryAfter(HttpResponseMessage response)
    {
        Assert.True(response.Headers.TryGetValues("Retry-After", out var values), "a 429 carries Retry-After");
        var seconds = int.Parse(values.Single(), NumberStyles.None, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, WindowSeconds);
    }

    private async Task<ClientWebSocket> ConnectAsync(string token, string? path = null)
    {
        var socket = new ClientWebSocket();
        await ConnectAsync(socket, token, path);
        return socket;
    }

    private async Task ConnectAsync(ClientWebSocket socket, string token, string? path = null)
    {
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new UriBuilder(new Uri(Api.BaseAddress, path ?? $"/v1/devices/{Oxygen}/live")) { Scheme = "ws" }.Uri, timeout.Token);
    }
}
