using Edge.Storage.Alerts;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Alerts;

[Collection(PostgresServer.Collection)]
public sealed class AlertQueriesTests(PostgresServer server) : AlertTest(server)
{
    private AlertQueries _queries = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _queries = new AlertQueries(DataSource);
        await ClinicAsync("clinic-a");
        await ClinicAsync("clinic-b");
        await DeviceAsync("ECG-7711-0001", "clinic-a");
        await DeviceAsync("ECG-7711-0002", "clinic-b");
    }

    [Fact]
    public async Task Pages_run_newest_first_and_the_cursors_visit_every_alert_once()
    {
        // 5 batches a minute apart, each raising 3 alerts with the same created_at: the id breaks the ties.
        for (var batch = 0; batch < 5; batch++)
        {
            await Recorder.RecordAsync(
                [.. Enumerable.Range(0, 3).Select(i => Readings.Ecg((batch * 3) + i + 1, Readings.January15.AddSeconds((batch * 3) + i + 1), arrhythmia: "afib", serial: "ECG-7711-0001"))],
                CancellationToken.None);
            Clock.Advance(TimeSpan.FromMinutes(1));
        }

        var seen = new List<Alert>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await _queries.ListAsync(new AlertFilter(), cursor, 4, CancellationToken.None);
            Assert.True(page.Items.Count == 4 || page.NextCursor is null);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(4, pages);
        Assert.Equal(15, seen.Select(a => a.Id).Distinct().Count());
        Assert.Equal(seen.OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id).Select(a => a.Id), seen.Select(a => a.Id));
    }

    [Fact]
    public async Task Filters_combine_and_callers_see_only_their_clinics()
    {
        await Recorder.RecordAsync([Readings.Ecg(1, Readings.January15, arrhythmia: "afib", serial: "ECG-7711-0001")], CancellationToken.None);
        Clock.Advance(TimeSpan.FromMinutes(10));
        await Recorder.RecordAsync(
        [
            Readings.Ecg(2, Readings.January15, heartRate: 20, serial: "ECG-7711-0001"),
            Readings.Ecg(3, Readings.January15, heartRate: 200, serial: "ECG-7711-0002"),
            Readings.Ecg(4, Readings.January15, arrhythmia: "vt", serial: "ECG-7711-0003"), // not registered: no clinic
        ], CancellationToken.None);

        async Task<string[]> RulesAsync(AlertFilter filter) =>
            [.. (await _queries.ListAsync(filter, null, 50, CancellationToken.None)).Items.Select(a => $"{a.Serial}:{a.Rule}").Order(StringComparer.Ordinal)];

        Assert.Equal(4, (await RulesAsync(new AlertFilter())).Length);
        Assert.Equal(["ECG-7711-0001:ecg.arrhythmia", "ECG-7711-0001:ecg.hr_low"], await RulesAsync(new AlertFilter(ClinicIds: ["clinic-a"])));
        Assert.Equal(3, (await RulesAsync(new AlertFilter(ClinicIds: ["clinic-a", "clinic-b"]))).Length);
        Assert.Empty(await RulesAsync(new AlertFilter(ClinicIds: [])));
        Assert.Equal(["ECG-7711-0002:ecg.hr_high"], await RulesAsync(new AlertFilter(Serial: "ECG-7711-0002")));
        Assert.Equal(["ECG-7711-0001:ecg.arrhythmia", "ECG-7711-0003:ecg.arrhythmia"], await RulesAsync(new AlertFilter(Rule: "ecg.arrhythmia")));
        Assert.Equal(["ECG-7711-0001:ecg.arrhythmia"], await RulesAsync(new AlertFilter(Until: Readings.January15.AddMinutes(10))));
        Assert.Equal(3, (await RulesAsync(new AlertFilter(Since: Readings.January15.AddMinutes(10)))).Length);
        Assert.Equal(["ECG-7711-0001:ecg.hr_low"], await RulesAsync(new AlertFilter(["clinic-a"], "ECG-7711-0001", Since: Readings.January15.AddMinutes(5))));
    }

    [Fact]
    public async Task Get_returns_an_alert_only_to_callers_who_may_see_its_clinic()
    {
        var reading = Readings.Ecg(1, Readings.January15, arrhythmia: "afib", serial: "ECG-7711-0001");
        await Recorder.RecordAsync([reading], CancellationToken.None);
        var id = AlertId.From(reading.ContentId, AlertRuleNames.EcgArrhythmia);

        var alert = await _queries.GetAsync(id, null, CancellationToken.None);

        Assert.NotNull(alert);
        Assert.Equal(("clinic-a", "Arrhythmia detected: afib", "afib", Readings.January15), (alert.ClinicId, alert.Message, alert.Detail, alert.CreatedAt));
        Assert.NotNull(await _queries.GetAsync(id, ["clinic-a"], CancellationToken.None));
        Assert.Null(await _queries.GetAsync(id, ["clinic-b"], CancellationToken.None));
        Assert.Null(await _queries.GetAsync(Guid.NewGuid(), null, CancellationToken.None));
    }

    [Fact]
    public async Task The_limit_is_bounded()
    {
        await Recorder.RecordAsync([.. Enumerable.Range(1, 3).Select(i => Readings.Oxygen(i, Readings.January15.AddSeconds(i), alarm: "E1"))], CancellationToken.None);

        Assert.Single((await _queries.ListAsync(new AlertFilter(), null, 0, CancellationToken.None)).Items);
        Assert.Equal(3, (await _queries.ListAsync(new AlertFilter(), null, 100_000, CancellationToken.None)).Items.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-cursor")]
    [InlineData("AQAA")]
    [InlineData("Af__________AAAAAAAAAAAAAAAAAAAAAA")] // before 1970
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // format version 2
    public async Task A_cursor_this_api_did_not_make_is_refused(string cursor)
    {
        await Assert.ThrowsAsync<FormatException>(() => _queries.ListAsync(new AlertFilter(), cursor, 10, CancellationToken.None));
    }

    [Fact]
    public void A_cursor_round_trips_to_the_microsecond()
    {
        var at = new DateTime(2026, 1, 15, 12, 0, 0, DateTimeKind.Utc).AddTicks(1234560);
        var id = Guid.NewGuid();

        Assert.Equal((at, id), AlertQueries.DecodeCursor(AlertQueries.EncodeCursor(at, id)));
    }
}
