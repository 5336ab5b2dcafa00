using System.Net;
using System.Net.WebSockets;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Api;
using Edge.Testing.Metrics;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Metrics;

/// <summary>
/// The API's metrics listener, scraped with its token on its own port: ASP.NET Core's request figures per route and
/// status, the live stream's gauges, and only this API's requests when two run in one process.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class ApiMetricsTests(PostgresServer server) : ApiTest(server)
{
    private const string Route = "http_route=\"/v1/clinics\"";
    private readonly MetricsEndpoint _metrics = new();

    protected override string[] ApiSettings() => _metrics.Arguments;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _metrics.Dispose();
    }

    [Fact]
    public async Task Requests_are_counted_per_route_and_status_and_live_streams_are_gauged()
    {
        await CreateClinicAsync("north");
        for (var i = 0; i < 3; i++)
        {
            (await Admin.GetAsync("/v1/clinics")).EnsureSuccessStatusCode();
        }

        using var anonymous = Api.Client(token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/clinics")).StatusCode);

        // The figures are not on the API's own (public) port.
        Assert.NotEqual(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode);

        var text = await _metrics.ScrapeAsync();
        Assert.Equal(3, MetricsEndpoint.Value(text, "http_server_request_duration_seconds_count", Route, "http_request_method=\"GET\"", "http_response_status_code=\"200\""));
        Assert.Equal(1, MetricsEndpoint.Value(text, "http_server_request_duration_seconds_count", Route, "http_request_method=\"GET\"", "http_response_status_code=\"401\""));
        Assert.Equal(1, MetricsEndpoint.Value(text, "http_server_request_duration_seconds_count", Route, "http_request_method=\"POST\""));
        Assert.Equal(1, MetricsEndpoint.Value(text, "edge_api_info"));
        Assert.Equal(0, MetricsEndpoint.Value(text, "edge_api_live_viewers"));

        await RegisterDeviceAsync("OXY-8844-5521", "north");
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {Api.Token("clinician", "north")}");
        await socket.ConnectAsync(new UriBuilder(new Uri(Api.BaseAddress, "/v1/devices/OXY-8844-5521/live")) { Scheme = "ws" }.Uri, CancellationToken.None);
        await Eventually.TrueAsync(
            async () =>
            {
                var now = await _metrics.ScrapeAsync();
                return MetricsEndpoint.Value(now, "edge_api_live_viewers") == 1 && MetricsEndpoint.Value(now, "edge_api_live_listening") == 1;
            },
            TimeSpan.FromSeconds(30), "one live viewer, and the LISTEN connection up");
    }

    [Fact]
    public async Task Two_apis_in_one_process_each_count_only_their_own_requests()
    {
        using var otherMetrics = new MetricsEndpoint();
        await using var other = await InProcessApi.StartAsync(ConnectionString, otherMetrics.Arguments);
        using var otherAdmin = other.As("admin");
        for (var i = 0; i < 4; i++)
        {
            (await otherAdmin.GetAsync("/v1/clinics")).EnsureSuccessStatusCode();
        }

        (await Admin.GetAsync("/v1/clinics")).EnsureSuccessStatusCode();

        Assert.Equal(4, MetricsEndpoint.Value(await otherMetrics.ScrapeAsync(), "http_server_request_duration_seconds_count", Route, "http_response_status_code=\"200\""));
        Assert.Equal(1, MetricsEndpoint.Value(await _metrics.ScrapeAsync(), "http_server_request_duration_seconds_count", Route, "http_response_status_code=\"200\""));
    }
}
