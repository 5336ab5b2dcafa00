using Edge.Storage.Alerts;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Alerts;

[Collection(PostgresServer.Collection)]
public sealed class WebhookSubscriptionsTests(PostgresServer server) : AlertTest(server)
{
    [Theory]
    [InlineData("https://hooks.example.org/edge?token=abc", null)]
    [InlineData("http://localhost:8080/hook", null)]
    [InlineData("http://127.0.0.1/hook", null)]
    [InlineData("http://[::1]:9000/hook", null)]
    [InlineData("http://hooks.example.org/edge", "url: must be https")]
    [InlineData("ftp://hooks.example.org/edge", "url: must be https")]
    [InlineData("/relative/hook", "url: must be an absolute URL")]
    [InlineData("", "url: required")]
    [InlineData("https://user:pass@hooks.example.org/edge", "url: must not contain a user name or password")]
    [InlineData("https://hooks.example.org/edge#x", "url: must not contain a fragment")]
    public void Urls_must_be_https_or_http_to_a_loopback_host(string url, string? error)
    {
        var errors = WebhookSubscriptions.Validate(new WebhookSubscriptionRequest(url));

        if (error is null)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.StartsWith(error, Assert.Single(errors), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Rules_must_be_known_and_secrets_long_enough_and_every_problem_is_listed()
    {
        var errors = WebhookSubscriptions.Validate(new WebhookSubscriptionRequest(
            "http://example.org/", "", ["cpap.leak_high", "cpap.leak"], new string('s', 31)));

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("url:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("clinic_id:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("rules: unknown rule 'cpap.leak'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("secret: must be 32-256 characters", StringComparison.Ordinal));
        Assert.Single(WebhookSubscriptions.Validate(new WebhookSubscriptionRequest("https://example.org/", Rules: [])));
        Assert.Empty(WebhookSubscriptions.Validate(new WebhookSubscriptionRequest("https://example.org/", Secret: new string('s', 32))));
    }

    [Fact]
    public async Task Creation_generates_a_secret_when_none_is_given_and_returns_it_only_then()
    {
        await ClinicAsync("clinic-a");

        var created = await Subscriptions.CreateAsync(
            new WebhookSubscriptionRequest("https://hooks.example.org/edge", "clinic-a", ["ecg.arrhythmia", "ecg.arrhythmia"]), "alice", CancellationToken.None);

        Assert.True(created.Secret.Length >= WebhookSubscriptions.MinSecretLength);
        Assert.Equal(created.Secret, await ScalarAsync<string>($"SELECT secret FROM webhook_subscriptions WHERE id = '{created.Subscription.Id}'"));
        Assert.NotEqual(created.Secret, (await Subscriptions.CreateAsync(new WebhookSubscriptionRequest("https://hooks.example.org/edge"), "alice", CancellationToken.None)).Secret);
        var listed = await Subscriptions.GetAsync(created.Subscription.Id, null, CancellationToken.None);
        Assert.NotNull(listed);
        Assert.Equal(created.Subscription, listed with { Rules = created.Subscription.Rules });
        Assert.Equal(["ecg.arrhythmia"], listed.Rules);
        Assert.Equal(("alice", Readings.January15, true), (listed.CreatedBy, listed.CreatedAt, listed.Active));
        Assert.DoesNotContain(created.Secret, listed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_given_secret_is_kept_and_an_unknown_clinic_is_refused()
    {
        var secret = new string('k', 40);

        var created = await Subscriptions.CreateAsync(new WebhookSubscriptionRequest("https://hooks.example.org/edge", Secret: secret), "alice", CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            Subscriptions.CreateAsync(new WebhookSubscriptionRequest("https://hooks.example.org/edge", "no-such-clinic"), "alice", CancellationToken.None));
        var invalid = await Assert.ThrowsAsync<ArgumentException>(() =>
            Subscriptions.CreateAsync(new WebhookSubscriptionRequest("http://hooks.example.org/edge"), "alice", CancellationToken.None));

        Assert.Equal(secret, created.Secret);
        Assert.StartsWith("clinic_id: clinic 'no-such-clinic' is not registered", refused.Message, StringComparison.Ordinal);
        Assert.StartsWith("url: must be https", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lists_and_gets_show_a_caller_only_the_subscriptions_of_their_clinics()
    {
        await ClinicAsync("clinic-a");
        await ClinicAsync("clinic-b");
        var all = await SubscribeAsync();
        var a = await SubscribeAsync("clinic-a");
        var b = await SubscribeAsync("clinic-b");

        Assert.Equal(new[] { all, a, b }.Order(), (await Subscriptions.ListAsync(null, false, CancellationToken.None)).Select(s => s.Id).Order());
        Assert.Equal([a], (await Subscriptions.ListAsync(["clinic-a"], false, CancellationToken.None)).Select(s => s.Id));
        Assert.Null(await Subscriptions.GetAsync(b, ["clinic-a"], CancellationToken.None));
        Assert.Null(await Subscriptions.GetAsync(all, ["clinic-a"], CancellationToken.None));
        Assert.False(await Subscriptions.DeactivateAsync(b, ["clinic-a"], CancellationToken.None));
    }

    [Fact]
    public async Task Deactivating_keeps_the_subscription_for_the_record_and_drops_its_pending_deliveries()
    {
        var kept = await SubscribeAsync();
        var dropped = await SubscribeAsync();
        await Recorder.RecordAsync([Readings.Oxygen(1, Readings.January15, alarm: "E1")], CancellationToken.None);
        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.True(await Subscriptions.DeactivateAsync(dropped, null, CancellationToken.None));
        Assert.False(await Subscriptions.DeactivateAsync(dropped, null, CancellationToken.None));

        Assert.Equal([kept.ToString()], await ColumnAsync("SELECT subscription_id FROM webhook_deliveries"));
        Assert.Equal([kept], (await Subscriptions.ListAsync(null, false, CancellationToken.None)).Select(s => s.Id));
        var inactive = Assert.Single(await Subscriptions.ListAsync(null, true, CancellationToken.None), s => !s.Active);
        Assert.Equal((dropped, Readings.January15.AddMinutes(1)), (inactive.Id, inactive.DeactivatedAt));
    }

    [Fact]
    public async Task Dead_deliveries_are_listed_newest_first_within_the_callers_clinics_and_can_be_requeued()
    {
        await ClinicAsync("clinic-a");
        await DeviceAsync("OXY-8844-0001", "clinic-a");
        var subscription = await SubscribeAsync();
        await Recorder.RecordAsync(
            [.. Enumerable.Range(1, 5).Select(i => Readings.Oxygen(i, Readings.January15.AddSeconds(i), alarm: "E1", serial: i <= 3 ? "OXY-8844-0001" : "OXY-8844-0002"))],
            CancellationToken.None);
        await ExecuteAsync("UPDATE webhook_deliveries SET status = 'dead', attempts = 8, last_error = 'HTTP 500 Internal Server Error', last_status_code = 500");

        var first = await Subscriptions.ListDeadDeliveriesAsync(null, null, 3, CancellationToken.None);
        var second = await Subscriptions.ListDeadDeliveriesAsync(null, first.NextCursor, 3, CancellationToken.None);
        var clinicA = await Subscriptions.ListDeadDeliveriesAsync(["clinic-a"], null, 10, CancellationToken.None);

        Assert.Equal(3, first.Items.Count);
        Assert.Equal(2, second.Items.Count);
        Assert.Null(second.NextCursor);
        Assert.Equal([.. first.Items.Concat(second.Items).Select(d => d.Id).OrderDescending()], first.Items.Concat(second.Items).Select(d => d.Id));
        Assert.Equal(3, clinicA.Items.Count);
        var dead = clinicA.Items[0];
        Assert.Equal((subscription, "oxygen.alarm", 8, "HTTP 500 Internal Server Error", 500), (dead.SubscriptionId, dead.Rule, dead.Attempts, dead.LastError, dead.LastStatusCode));

        Assert.False(await Subscriptions.RequeueDeadDeliveryAsync(first.Items.Concat(second.Items).First(d => d.ClinicId is null).Id, ["clinic-a"], CancellationToken.None));
        Assert.True(await Subscriptions.RequeueDeadDeliveryAsync(dead.Id, ["clinic-a"], CancellationToken.None));
        Assert.False(await Subscriptions.RequeueDeadDeliveryAsync(dead.Id, null, CancellationToken.None));
        Assert.Equal("pending|0", await ScalarAsync<string>($"SELECT status || '|' || attempts FROM webhook_deliveries WHERE id = {dead.Id}"));
    }
}
