using Edge.Storage.Alerts;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Alerts;

[Collection(PostgresServer.Collection)]
public sealed class AlertRecorderTests(PostgresServer server) : AlertTest(server)
{
    [Fact]
    public async Task A_device_the_registry_does_not_know_is_held_to_the_defaults()
    {
        var atThreshold = Readings.Cpap(1, Readings.January15, leak: 30);
        var above = Readings.Cpap(2, Readings.January15.AddSeconds(1), leak: 30.5);

        Assert.Equal(1, await Recorder.RecordAsync([atThreshold, above], CancellationToken.None));

        Assert.Equal([$"{above.Id}|cpap.leak_high|warning|30.5|30|||Leak 30.5 L/min above threshold 30 L/min"],
            await ColumnAsync("""
                SELECT concat_ws('|', reading_id, rule, severity, value, threshold, coalesce(clinic_id, ''), coalesce(config_version::text, ''), message)
                FROM alerts
                """));
    }

    [Fact]
    public async Task A_registered_device_is_held_to_its_current_config_and_the_alert_names_the_version_and_clinic()
    {
        await ClinicAsync("clinic-a");
        await DeviceAsync("CPAP-2301-9912", "clinic-a", 1, CpapConfig(leak: 50));
        await ConfigAsync("CPAP-2301-9912", 2, CpapConfig(leak: 24));

        var reading = Readings.Cpap(1, Readings.January15, leak: 31.5);
        Assert.Equal(1, await Recorder.RecordAsync([reading], CancellationToken.None));

        Assert.Equal([$"{AlertId.From(reading.ContentId, "cpap.leak_high")}|{reading.Id}|clinic-a|2|24|31.5|CPAP-2301-9912|cpap|{Readings.Gateway}"],
            await ColumnAsync("SELECT concat_ws('|', id, reading_id, clinic_id, config_version, threshold, value, serial, kind, gateway_id) FROM alerts"));
        Assert.True(await ScalarAsync<bool>("SELECT created_at = '2026-01-15T12:00:00Z' AND device_time = '2026-01-15T12:00:00Z' FROM alerts"));
    }

    [Fact]
    public async Task A_registered_device_without_a_config_is_held_to_the_defaults_in_its_clinic()
    {
        await ClinicAsync("clinic-a");
        await DeviceAsync("ECG-7711-0045", "clinic-a");

        await Recorder.RecordAsync([Readings.Ecg(1, Readings.January15, heartRate: 151)], CancellationToken.None);

        Assert.Equal(["ecg.hr_high|clinic-a|150|"], await ColumnAsync("SELECT concat_ws('|', rule, clinic_id, threshold, coalesce(config_version::text, '')) FROM alerts"));
    }

    [Fact]
    public async Task A_re_sent_batch_records_no_alert_and_queues_no_delivery_a_second_time()
    {
        await SubscribeAsync();
        var batch = new List<StoredReading>
        {
            Readings.Oxygen(1, Readings.January15, purity: 80, alarm: "E07"),
            Readings.Ecg(2, Readings.January15, arrhythmia: "afib"),
            Readings.Cpap(3, Readings.January15),
        };

        Assert.Equal(3, await Recorder.RecordAsync(batch, CancellationToken.None));
        Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await Recorder.RecordAsync(batch, CancellationToken.None));
        Assert.Equal(1, await Recorder.RecordAsync([.. batch, Readings.Ecg(4, Readings.January15, heartRate: 20)], CancellationToken.None));

        Assert.Equal(4L, await ScalarAsync<long>("SELECT count(*) FROM alerts"));
        Assert.Equal(4L, await ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries"));
        Assert.Equal(3L, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE created_at = '2026-01-15T12:00:00Z'"));
    }

    [Fact]
    public async Task Two_replicas_recording_the_same_batch_at_once_record_it_once()
    {
        await SubscribeAsync();
        var batch = Enumerable.Range(1, 200).Select(i => Readings.Oxygen(i, Readings.January15.AddSeconds(i), purity: 80)).ToList();
        var first = NewRecorder(NewDataSource());
        var second = NewRecorder(NewDataSource());

        var counts = await Task.WhenAll(
            Task.Run(() => first.RecordAsync(batch, CancellationToken.None)),
            Task.Run(() => second.RecordAsync(batch, CancellationToken.None)));

        Assert.Equal(200, counts.Sum());
        Assert.Equal(200L, await ScalarAsync<long>("SELECT count(*) FROM alerts"));
        Assert.Equal(200L, await ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries"));
    }

    [Fact]
    public async Task A_delivery_is_queued_for_each_active_subscription_whose_clinic_and_rules_match()
    {
        await ClinicAsync("clinic-a");
        await ClinicAsync("clinic-b");
        await DeviceAsync("ECG-7711-0045", "clinic-a");
        var everything = await SubscribeAsync();
        var clinicA = await SubscribeAsync("clinic-a");
        var clinicB = await SubscribeAsync("clinic-b");
        var arrhythmiaOnly = await SubscribeAsync(rules: ["ecg.arrhythmia"]);
        var clinicAHeartRate = await SubscribeAsync("clinic-a", ["ecg.hr_low", "ecg.hr_high"]);
        var deleted = await SubscribeAsync();
        await Subscriptions.DeactivateAsync(deleted, null, CancellationToken.None);

        await Recorder.RecordAsync(
        [
            Readings.Ecg(1, Readings.January15, arrhythmia: "afib"),                              // clinic-a
            Readings.Ecg(2, Readings.January15, heartRate: 20, serial: "ECG-7711-0046"),          // unregistered
        ], CancellationToken.None);

        var rows = await ColumnAsync("SELECT d.subscription_id || '|' || a.serial || '|' || a.rule FROM webhook_deliveries d JOIN alerts a ON a.id = d.alert_id");
        Assert.Equal(new[]
        {
            $"{everything}|ECG-7711-0045|ecg.arrhythmia",
            $"{everything}|ECG-7711-0046|ecg.hr_low",
            $"{clinicA}|ECG-7711-0045|ecg.arrhythmia",
            $"{arrhythmiaOnly}|ECG-7711-0045|ecg.arrhythmia",
        }.Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(rows, r => r.StartsWith(clinicB.ToString(), StringComparison.Ordinal) || r.StartsWith(clinicAHeartRate.ToString(), StringComparison.Ordinal));
        Assert.Equal(["pending|0|2026-01-15 12:00:00+00"],
            await ColumnAsync("SELECT DISTINCT status || '|' || attempts || '|' || next_attempt_at FROM webhook_deliveries"));
    }

    [Fact]
    public async Task Thresholds_are_cached_for_the_configured_time_then_read_again()
    {
        await ClinicAsync("clinic-a");
        await DeviceAsync("CPAP-2301-9912", "clinic-a", 1, CpapConfig(leak: 50));
        Assert.Equal(0, await Recorder.RecordAsync([Readings.Cpap(1, Readings.January15, leak: 40)], CancellationToken.None));

        await ConfigAsync("CPAP-2301-9912", 2, CpapConfig(leak: 30));
        Clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await Recorder.RecordAsync([Readings.Cpap(2, Readings.January15.AddSeconds(2), leak: 40)], CancellationToken.None));

        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await Recorder.RecordAsync([Readings.Cpap(3, Readings.January15.AddSeconds(3), leak: 40)], CancellationToken.None));
        Assert.Equal(["2"], await ColumnAsync("SELECT config_version FROM alerts"));
    }

    [Fact]
    public async Task A_device_registered_after_its_first_readings_gets_its_clinic_once_the_cache_expires()
    {
        Assert.Equal(1, await Recorder.RecordAsync([Readings.Oxygen(1, Readings.January15, alarm: "E1")], CancellationToken.None));
        await ClinicAsync("clinic-a");
        await DeviceAsync("OXY-8844-5521", "clinic-a");
        Clock.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(1, await Recorder.RecordAsync([Readings.Oxygen(2, Readings.January15.AddSeconds(2), alarm: "E1")], CancellationToken.None));

        Assert.Equal(["", "clinic-a"], await ColumnAsync("SELECT coalesce(clinic_id, '') FROM alerts ORDER BY created_at"));
    }

    [Fact]
    public async Task A_small_cache_still_gives_every_reading_its_own_devices_thresholds()
    {
        await ClinicAsync("clinic-a");
        for (var i = 0; i < 5; i++)
        {
            await DeviceAsync($"CPAP-2301-000{i}", "clinic-a", 1, CpapConfig(leak: 20 + i));
        }
        var recorder = NewRecorder(DataSource, new AlertOptions { ThresholdCacheSize = 2 });

        var recorded = await recorder.RecordAsync(
            [.. Enumerable.Range(0, 5).Select(i => Readings.Cpap(i + 1, Readings.January15, leak: 22.5, serial: $"CPAP-2301-000{i}"))], CancellationToken.None);

        Assert.Equal(3, recorded); // thresholds 20, 21, 22 are crossed; 23 and 24 are not
        Assert.Equal(["20", "21", "22"], await ColumnAsync("SELECT threshold FROM alerts ORDER BY threshold"));
    }

    [Fact]
    public async Task A_nul_in_device_text_is_stored_as_a_replacement_character()
    {
        await Recorder.RecordAsync([Readings.Ecg(1, Readings.January15, arrhythmia: "af\0ib")], CancellationToken.None);

        Assert.Equal(["af\uFFFDib"], await ColumnAsync("SELECT detail FROM alerts"));
    }

    [Fact]
    public async Task A_skewed_device_clock_raises_one_alert_per_device_per_day()
    {
        await ClinicAsync("clinic-a");
        await DeviceAsync("OXY-8844-5521", "clinic-a");
        // The device's clock is 10 minutes behind its gateway's; the gateway received each reading at day + hours.
        StoredReading Skewed(long sequence, DateTimeOffset receivedAt, double skewSeconds = -600, string serial = "OXY-8844-5521") =>
            Readings.Oxygen(sequence, receivedAt.AddSeconds(skewSeconds), serial: serial) with { GatewayReceivedAt = receivedAt };
        var day1 = new DateTimeOffset(2026, 1, 15, 0, 0, 0, TimeSpan.Zero);

        Assert.Equal(1, await Recorder.RecordAsync([Skewed(1, day1.AddHours(8)), Skewed(2, day1.AddHours(9))], CancellationToken.None));
        Assert.Equal(0, await Recorder.RecordAsync([Skewed(3, day1.AddHours(23.9)), Skewed(4, day1.AddHours(1), skewSeconds: 299)], CancellationToken.None));
        Assert.Equal(1, await Recorder.RecordAsync([Skewed(5, day1.AddDays(1).AddHours(1), skewSeconds: 400)], CancellationToken.None));
        Assert.Equal(1, await Recorder.RecordAsync([Skewed(6, day1.AddHours(8), serial: "OXY-8844-5522")], CancellationToken.None));

        var first = Skewed(1, day1.AddHours(8));
        var nextDay = Skewed(5, day1.AddDays(1).AddHours(1), skewSeconds: 400);
        var other = Skewed(6, day1.AddHours(8), serial: "OXY-8844-5522");
        Assert.Equal(
            [$"OXY-8844-5521|{first.Id}|-600|300|warning", $"OXY-8844-5521|{nextDay.Id}|400|300|warning", $"OXY-8844-5522|{other.Id}|-600|300|warning"],
            await ColumnAsync("""
                SELECT concat_ws('|', serial, reading_id, value, threshold, severity) FROM alerts
                WHERE rule = 'device_clock_skew' ORDER BY serial, device_time
                """));
    }
}
