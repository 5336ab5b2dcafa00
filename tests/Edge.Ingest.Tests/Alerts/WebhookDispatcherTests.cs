using System.Globalization;
using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Contracts.Payloads;
using Edge.Ingest.Alerts;
using Edge.Ingest.Metrics;
using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.EndToEnd.Tests.Alerts;
using Edge.Testing;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Edge.Ingest.Tests.Alerts;

/// <summary>The webhook dispatcher against real PostgreSQL and a real HTTP receiver on loopback.</summary>
[Collection(PostgresServer.Collection)]
public sealed class WebhookDispatcherTests(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);
    private static int s_databases;

    private readonly FakeTimeProvider _clock = new(Start);
    private readonly WorkerMetrics _metrics = new(TimeProvider.System);
    private readonly List<NpgsqlDataSource> _dataSources = [];
    private ServiceProvider _services = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.CreateDatabaseAsync($"webhooks_{Interlocked.Increment(ref s_databases)}");
        _dataSource = NewDataSource(connectionString);
        await AlertSchema.MigrateAsync(_dataSource, NullLogger.Instance, CancellationToken.None);
        var services = new ServiceCollection();
        services.AddLogging();
        // The test receivers listen on loopback, which the default refuses (see the SSRF test below).
        services.Configure<WebhookOptions>(o => o.AllowPrivateAddresses = true);
        services.AddWebhookHttpClient();
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        foreach (var dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_delivery_reaches_the_receiver_signed_with_the_subscription_secret()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var secret = await SubscribeAsync(receiver.Url());
        await RaiseAsync(1);

        Assert.Equal(1, await Dispatcher().DispatchDueAsync(CancellationToken.None));

        var request = Assert.Single(receiver.Received);
        Assert.True(request.IsSignedWith(secret), "the receiver verifies the signature with the secret");
        Assert.False(request.IsSignedWith(secret + "x"));
        Assert.Equal(Start.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), request.Timestamp);
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        var sent = request.Event;
        Assert.Equal((WebhookEvent.AlertRaised, 1, "OXY-8844-0001", "oxygen.alarm", "critical", "E07"),
            (sent.Type, sent.Attempt, sent.Alert.Serial, sent.Alert.Rule, sent.Alert.Severity, sent.Alert.Detail));
        Assert.Equal(sent.DeliveryId.ToString(CultureInfo.InvariantCulture), request.DeliveryId);
        Assert.Equal($"delivered|1|200|{Start:yyyy-MM-dd HH:mm:ss}+00", await DeliveryAsync("status, attempts, last_status_code, delivered_at"));
        Assert.Contains("\"delivery_id\":", System.Text.Encoding.UTF8.GetString(request.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_receiver_answering_500_then_200_gets_the_retry_after_the_backoff_and_the_delivery_is_delivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync(n => n == 1 ? 500 : 200);
        var secret = await SubscribeAsync(receiver.Url());
        await RaiseAsync(1);
        var dispatcher = Dispatcher(new WebhookOptions { BackoffBaseSeconds = 30, BackoffCapSeconds = 600 });

        await dispatcher.DispatchDueAsync(CancellationToken.None);
        Assert.Equal("pending|1|500|HTTP 500 Internal Server Error: receiver says no (line two)", await DeliveryAsync("status, attempts, last_status_code, last_error"));
        var wait = await ScalarAsync<double>("SELECT extract(epoch FROM next_attempt_at - '2026-01-15T12:00:00Z')::float8 FROM webhook_deliveries");
        Assert.InRange(wait, 15, 30); // 30 s with jitter: 50-100 %

        _clock.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(0, await dispatcher.DispatchDueAsync(CancellationToken.None));
        _clock.Advance(TimeSpan.FromSeconds(16));
        Assert.Equal(1, await dispatcher.DispatchDueAsync(CancellationToken.None));

        Assert.Equal("delivered|2|200|", await DeliveryAsync("status, attempts, last_status_code, coalesce(last_error, '')"));
        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal([1, 2], receiver.Received.Select(r => r.Event.Attempt));
        Assert.Single(receiver.Received.Select(r => r.DeliveryId).Distinct());
        Assert.All(receiver.Received, r => Assert.True(r.IsSignedWith(secret)));
        Assert.Equal((Start + TimeSpan.FromSeconds(30)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), receiver.Received[1].Timestamp);
    }

    [Fact]
    public async Task A_receiver_that_always_fails_leaves_the_delivery_dead_after_the_last_attempt()
    {
        await using var receiver = await WebhookReceiver.StartAsync(_ => 503);
        await SubscribeAsync(receiver.Url());
        await RaiseAsync(1);
        var dispatcher = Dispatcher(new WebhookOptions { MaxAttempts = 3, BackoffBaseSeconds = 10, BackoffCapSeconds = 20 });

        for (var i = 0; i < 5; i++)
        {
            await dispatcher.DispatchDueAsync(CancellationToken.None);
            _clock.Advance(TimeSpan.FromSeconds(20));
        }

        Assert.Equal(3, receiver.Received.Count);
        Assert.Equal("dead|3|503", await DeliveryAsync("status, attempts, last_status_code"));
        var dead = Assert.Single((await new WebhookSubscriptions(_dataSource, _clock, NullLogger<WebhookSubscriptions>.Instance)
            .ListDeadDeliveriesAsync(null, null, 10, CancellationToken.None)).Items);
        Assert.StartsWith("HTTP 503 Service Unavailable", dead.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_within_the_timeout_is_a_failed_attempt()
    {
        await using var receiver = await WebhookReceiver.StartAsync(async (_, _, aborted) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), aborted);
            return 200;
        });
        await SubscribeAsync(receiver.Url());
        await RaiseAsync(1);

        await Dispatcher(new WebhookOptions { TimeoutSeconds = 1 }).DispatchDueAsync(CancellationToken.None);

        Assert.Equal("pending|1||no answer within 1 s", await DeliveryAsync("status, attempts, coalesce(last_status_code::text, ''), last_error"));
    }

    [Fact]
    public async Task A_redirect_is_not_followed()
    {
        await using var receiver = await WebhookReceiver.StartAsync(_ => 307);
        await SubscribeAsync(receiver.Url());
        await RaiseAsync(1);

        await Dispatcher().DispatchDueAsync(CancellationToken.None);

        Assert.Equal(["/hook"], receiver.Received.Select(r => r.Path));
        Assert.Equal("pending|307|HTTP 307 Temporary Redirect; redirects are not followed, subscribe the final URL",
            await DeliveryAsync("status, last_status_code, last_error"));
    }

    [Fact]
    public async Task A_receiver_that_is_not_listening_is_a_failed_attempt()
    {
        await SubscribeAsync($"http://127.0.0.1:{FreePort.Next()}/hook");
        await RaiseAsync(1);

        await Dispatcher().DispatchDueAsync(CancellationToken.None);

        Assert.Contains("Connection refused", await DeliveryAsync("status, last_error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_dispatchers_running_at_once_deliver_each_delivery_exactly_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync(async (_, _, aborted) =>
        {
            await Task.Delay(5, aborted); // long enough for both dispatchers to be sending at the same time
            return 204;
        });
        await SubscribeAsync(receiver.Url());
        await RaiseAsync(120, TimeProvider.System);
        var options = new WebhookOptions { PollIntervalMilliseconds = 10, MaxConcurrency = 4 };
        var first = Dispatcher(options, TimeProvider.System, NewDataSource(_dataSource.ConnectionString));
        var second = Dispatcher(options, TimeProvider.System, NewDataSource(_dataSource.ConnectionString));

        await first.StartAsync(CancellationToken.None);
        await second.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(
                async () => await ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") == 120,
                TimeSpan.FromSeconds(60), "every delivery to be delivered");
        }
        finally
        {
            await first.StopAsync(CancellationToken.None);
            await second.StopAsync(CancellationToken.None);
        }

        Assert.Equal(120, receiver.Received.Count);
        Assert.Equal(120, receiver.Received.Select(r => r.DeliveryId).Distinct().Count());
        Assert.Equal(1, await ScalarAsync<int>("SELECT max(attempts) FROM webhook_deliveries"));
    }

    [Fact]
    public async Task By_default_a_receiver_on_a_private_or_loopback_address_is_refused_and_the_reason_recorded()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await SubscribeAsync(receiver.Url());
        await RaiseAsync(1);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddWebhookHttpClient();
        await using var defaults = services.BuildServiceProvider();
        var dispatcher = new WebhookDispatcher(
            new WebhookDeliveries(_dataSource), defaults.GetRequiredService<IHttpClientFactory>(), Options.Create(new WebhookOptions()), _metrics, _clock,
            NullLogger<WebhookDispatcher>.Instance);

        await dispatcher.DispatchDueAsync(CancellationToken.None);

        Assert.Empty(receiver.Received);
        Assert.Contains("only public addresses are allowed unless Alerts:Webhooks:AllowPrivateAddresses is true", await DeliveryAsync("last_error"));
    }

    [Theory]
    [InlineData("8.8.8.8", false, true)]
    [InlineData("2001:4860:4860::8888", false, true)]
    [InlineData("127.0.0.1", false, false)]
    [InlineData("10.1.2.3", false, false)]
    [InlineData("172.20.0.5", false, false)]
    [InlineData("192.168.1.10", false, false)]
    [InlineData("100.64.0.1", false, false)]
    [InlineData("fd00::1", false, false)]
    [InlineData("::ffff:10.0.0.1", false, false)]
    [InlineData("10.1.2.3", true, true)]
    [InlineData("127.0.0.1", true, true)]
    [InlineData("169.254.169.254", true, false)]
    [InlineData("fe80::1", true, false)]
    [InlineData("0.0.0.0", true, false)]
    [InlineData("224.0.0.1", true, false)]
    public void Address_rules(string address, bool allowPrivate, bool allowed) =>
        Assert.Equal(allowed, WebhookTargets.IsAllowed(System.Net.IPAddress.Parse(address), allowPrivate));

    private WebhookDispatcher Dispatcher(WebhookOptions? options = null, TimeProvider? time = null, NpgsqlDataSource? dataSource = null) =>
        new(new WebhookDeliveries(dataSource ?? _dataSource), _services.GetRequiredService<IHttpClientFactory>(), Options.Create(options ?? new WebhookOptions()),
            _metrics, time ?? _clock, NullLogger<WebhookDispatcher>.Instance);

    private async Task<string> SubscribeAsync(string url) =>
        (await new WebhookSubscriptions(_dataSource, _clock, NullLogger<WebhookSubscriptions>.Instance)
            .CreateAsync(new WebhookSubscriptionRequest(url), "test", CancellationToken.None)).Secret;

    /// <summary>Records <paramref name="count"/> oxygen readings with an alarm code: one alert and one delivery each.</summary>
    private async Task RaiseAsync(int count, TimeProvider? time = null)
    {
        var recorder = new AlertRecorder(_dataSource, Options.Create(new AlertOptions()), time ?? _clock, NullLogger<AlertRecorder>.Instance);
        var readings = new List<StoredReading>();
        for (var i = 1; i <= count; i++)
        {
            var telemetry = new OxygenTelemetry("OXY-8844-0001", Start.AddSeconds(i), new OxygenMetrics(94, 2, 37, null, "E07"));
            // The payload as sent: alerts are keyed on its content id, so each reading must be a different reading.
            var raw = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(telemetry, Edge.Contracts.Payloads.ContractsJsonContext.Default.OxygenTelemetry);
            readings.Add(new StoredReading(ReadingId.From("gw-test", 1, i), ContentId.From(telemetry.Serial, raw), "gw-test", 1, i, SerialNumber.Parse(telemetry.Serial),
                telemetry.Timestamp, telemetry.Timestamp, true, raw, telemetry));
        }
        Assert.Equal(count, await recorder.RecordAsync(readings, CancellationToken.None));
    }

    private Task<string> DeliveryAsync(string columns) => ScalarAsync<string>($"SELECT concat_ws('|', {columns}) FROM webhook_deliveries");

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private NpgsqlDataSource NewDataSource(string connectionString)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        _dataSources.Add(dataSource);
        return dataSource;
    }
}
