using Edge.Storage.Alerts;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Alerts;

[Collection(PostgresServer.Collection)]
public sealed class WebhookDeliveriesTests(PostgresServer server) : AlertTest(server)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(70);

    [Fact]
    public async Task A_claimed_delivery_is_leased_and_counted_and_comes_back_when_the_lease_ends()
    {
        var subscription = await SubscribeAsync(url: "http://127.0.0.1:9/hook?token=t");
        var reading = Readings.Oxygen(1, Readings.January15, alarm: "E07");
        await Recorder.RecordAsync([reading], CancellationToken.None);
        var queue = new WebhookDeliveries(DataSource);
        var now = Clock.GetUtcNow();

        var claimed = Assert.Single(await queue.ClaimDueAsync(10, now, now + Lease, CancellationToken.None));
        Assert.Empty(await queue.ClaimDueAsync(10, now + Lease - TimeSpan.FromSeconds(1), now + Lease, CancellationToken.None));
        var again = Assert.Single(await queue.ClaimDueAsync(10, now + Lease, now + Lease + Lease, CancellationToken.None));

        Assert.Equal((1, subscription, "http://127.0.0.1:9/hook?token=t"), (claimed.Attempt, claimed.SubscriptionId, claimed.Url));
        Assert.Equal((AlertRuleNames.OxygenAlarm, "E07", reading.Id), (claimed.Alert.Rule, claimed.Alert.Detail, claimed.Alert.ReadingId));
        Assert.True(claimed.Secret.Length >= 32);
        Assert.DoesNotContain(claimed.Secret, claimed.ToString(), StringComparison.Ordinal);
        Assert.Equal((claimed.Id, 2), (again.Id, again.Attempt));
    }

    [Fact]
    public async Task An_attempt_that_outlived_its_lease_cannot_overwrite_the_newer_attempts_outcome()
    {
        await SubscribeAsync();
        await Recorder.RecordAsync([Readings.Oxygen(1, Readings.January15, alarm: "E07")], CancellationToken.None);
        var queue = new WebhookDeliveries(DataSource);
        var now = Clock.GetUtcNow();
        var stale = Assert.Single(await queue.ClaimDueAsync(10, now, now + Lease, CancellationToken.None));
        var current = Assert.Single(await queue.ClaimDueAsync(10, now + Lease, now + Lease + Lease, CancellationToken.None));

        Assert.False(await queue.MarkFailedAsync(stale, 500, "late", dead: true, now, CancellationToken.None));
        Assert.True(await queue.MarkFailedAsync(current, 503, "HTTP 503", dead: false, now + TimeSpan.FromMinutes(5), CancellationToken.None));
        Assert.Equal("pending|2|503|HTTP 503", await ScalarAsync<string>("SELECT concat_ws('|', status, attempts, last_status_code, last_error) FROM webhook_deliveries"));

        // A late success still counts: the receiver has the alert.
        Assert.True(await queue.MarkDeliveredAsync(stale, 200, now + Lease, CancellationToken.None));
        Assert.False(await queue.MarkFailedAsync(current, 500, "too late", dead: false, now, CancellationToken.None));
        Assert.Equal("delivered|200|", await ScalarAsync<string>("SELECT concat_ws('|', status, last_status_code, coalesce(last_error, '')) FROM webhook_deliveries"));
    }

    [Fact]
    public async Task Replicas_claiming_at_the_same_time_take_different_deliveries()
    {
        await SubscribeAsync();
        await Recorder.RecordAsync([.. Enumerable.Range(1, 300).Select(i => Readings.Oxygen(i, Readings.January15.AddSeconds(i), alarm: "E1"))], CancellationToken.None);
        var queues = Enumerable.Range(0, 4).Select(_ => new WebhookDeliveries(NewDataSource())).ToList();
        var now = Clock.GetUtcNow();

        var claims = await Task.WhenAll(queues.Select(q => Task.Run(async () =>
        {
            var mine = new List<long>();
            while (true)
            {
                var batch = await q.ClaimDueAsync(7, now, now + Lease, CancellationToken.None);
                if (batch.Count == 0)
                {
                    return mine;
                }
                mine.AddRange(batch.Select(d => d.Id));
            }
        })));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(300, all.Count);
        Assert.Equal(300, all.Distinct().Count());
        Assert.Equal(1, await ScalarAsync<int>("SELECT max(attempts) FROM webhook_deliveries"));
    }

    [Fact]
    public async Task Deliveries_of_a_deactivated_subscription_are_not_claimed()
    {
        var subscription = await SubscribeAsync();
        await Recorder.RecordAsync([Readings.Oxygen(1, Readings.January15, alarm: "E07")], CancellationToken.None);
        await Subscriptions.DeactivateAsync(subscription, null, CancellationToken.None);

        Assert.Empty(await new WebhookDeliveries(DataSource).ClaimDueAsync(10, Clock.GetUtcNow(), Clock.GetUtcNow() + Lease, CancellationToken.None));
    }
}
