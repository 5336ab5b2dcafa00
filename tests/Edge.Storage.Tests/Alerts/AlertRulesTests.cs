using Edge.Storage.Alerts;
using Edge.Storage.Tests.Infrastructure;

namespace Edge.Storage.Tests.Alerts;

public sealed class AlertRulesTests
{
    private static readonly AlertOptions Options = new();
    private static readonly DeviceThresholds Defaults = AlertRules.Defaults(Options);
    private static readonly DateTimeOffset Now = Readings.January15.AddMinutes(1);

    [Theory]
    [InlineData(30.0, false)]
    [InlineData(30.01, true)]
    [InlineData(31.5, true)]
    public void Cpap_leak_above_the_threshold_raises_leak_high_and_at_the_threshold_does_not(double leak, bool fires)
    {
        var alerts = Evaluate(Readings.Cpap(1, Readings.January15, leak: leak), Defaults);

        Assert.Equal(fires, alerts.Any(a => a.Rule == AlertRuleNames.CpapLeakHigh));
    }

    [Theory]
    [InlineData(9.9, AlertRuleNames.CpapRrLow)]
    [InlineData(10.0, null)]
    [InlineData(26.0, null)]
    [InlineData(26.5, AlertRuleNames.CpapRrHigh)]
    public void Cpap_respiratory_rate_outside_the_band_raises_rr_low_or_rr_high(double rate, string? rule)
    {
        var alerts = Evaluate(Readings.Cpap(1, Readings.January15, respiratoryRate: rate), Defaults);

        Assert.Equal(rule is null ? [] : [rule], alerts.Select(a => a.Rule));
    }

    [Theory]
    [InlineData(84.9, true)]
    [InlineData(85.0, false)]
    [InlineData(94.6, false)]
    public void Oxygen_purity_below_the_floor_raises_purity_low(double purity, bool fires)
    {
        var alerts = Evaluate(Readings.Oxygen(1, Readings.January15, purity: purity), Defaults);

        Assert.Equal(fires, alerts.Any(a => a.Rule == AlertRuleNames.OxygenPurityLow));
    }

    [Fact]
    public void An_oxygen_alarm_code_raises_a_critical_alarm_alert_that_names_the_code()
    {
        var alert = Assert.Single(Evaluate(Readings.Oxygen(1, Readings.January15, alarm: "E07"), Defaults));

        Assert.Equal((AlertRuleNames.OxygenAlarm, AlertSeverity.Critical, "E07", "Concentrator alarm E07"), (alert.Rule, alert.Severity, alert.Detail, alert.Message));
        Assert.Null(alert.Value);
        Assert.Null(alert.Threshold);
        Assert.Empty(Evaluate(Readings.Oxygen(1, Readings.January15, alarm: null), Defaults));
    }

    [Theory]
    [InlineData("none", false)]
    [InlineData("None", false)]
    [InlineData("afib", true)]
    [InlineData("PVC", true)]
    public void An_ecg_arrhythmia_other_than_none_raises_a_critical_alert(string arrhythmia, bool fires)
    {
        var alerts = Evaluate(Readings.Ecg(1, Readings.January15, arrhythmia: arrhythmia), Defaults);

        Assert.Equal(fires, alerts.Any(a => a.Rule == AlertRuleNames.EcgArrhythmia && a.Severity == AlertSeverity.Critical && a.Detail == arrhythmia));
    }

    [Theory]
    [InlineData(39.0, AlertRuleNames.EcgHrLow)]
    [InlineData(40.0, null)]
    [InlineData(150.0, null)]
    [InlineData(151.0, AlertRuleNames.EcgHrHigh)]
    public void Ecg_heart_rate_outside_the_band_raises_hr_low_or_hr_high(double heartRate, string? rule)
    {
        var alerts = Evaluate(Readings.Ecg(1, Readings.January15, heartRate: heartRate), Defaults);

        Assert.Equal(rule is null ? [] : [rule], alerts.Select(a => a.Rule));
    }

    [Fact]
    public void The_defaults_are_the_seed_config_samples_and_an_85_percent_purity_floor()
    {
        Assert.Equal(
            new DeviceThresholds(null, null, null, 30, 10, 26, 85, 40, 150),
            AlertRules.Defaults(new AlertOptions()));
    }

    [Fact]
    public void Threshold_alerts_are_warnings_and_read_like_a_sentence_with_value_threshold_and_version()
    {
        var thresholds = AlertRules.FromConfig(Options, "clinic-a", 3,
            """{"target_pressure":12,"humidity_level":3,"alerts":{"leak_threshold":24,"rr_low":10,"rr_high":26}}""");
        var reading = Readings.Cpap(7, Readings.January15, leak: 31.5);

        var alert = Assert.Single(Evaluate(reading, thresholds));

        Assert.Equal("Leak 31.5 L/min above threshold 24 L/min", alert.Message);
        Assert.Equal((AlertSeverity.Warning, 31.5, 24.0, 3), (alert.Severity, alert.Value, alert.Threshold, alert.ConfigVersion));
        Assert.Equal(("CPAP-2301-9912", "cpap", "clinic-a", Readings.Gateway), (alert.Serial, alert.Kind, alert.ClinicId, alert.GatewayId));
        Assert.Equal((reading.Id, reading.DeviceTime, Now), (alert.ReadingId, alert.DeviceTime, alert.CreatedAt));
        Assert.Equal(AlertId.From(reading.ContentId, AlertRuleNames.CpapLeakHigh), alert.Id);
    }

    [Fact]
    public void Messages_name_the_measure_with_its_unit()
    {
        Assert.Equal("Respiratory rate 8 breaths/min below threshold 10 breaths/min",
            Assert.Single(Evaluate(Readings.Cpap(1, Readings.January15, respiratoryRate: 8), Defaults)).Message);
        Assert.Equal("Oxygen purity 82.25 % below floor 85 %",
            Assert.Single(Evaluate(Readings.Oxygen(1, Readings.January15, purity: 82.25), Defaults)).Message);
        Assert.Equal("Heart rate 162 bpm above threshold 150 bpm",
            Assert.Single(Evaluate(Readings.Ecg(1, Readings.January15, heartRate: 162), Defaults)).Message);
        Assert.Equal("Arrhythmia detected: afib",
            Assert.Single(Evaluate(Readings.Ecg(1, Readings.January15, arrhythmia: "afib"), Defaults)).Message);
    }

    [Fact]
    public void Critical_alerts_are_the_device_alarm_the_arrhythmia_and_low_purity()
    {
        var alerts = Evaluate(Readings.Oxygen(1, Readings.January15, purity: 70, alarm: "LOW_O2"), Defaults)
            .Concat(Evaluate(Readings.Ecg(2, Readings.January15, heartRate: 30, arrhythmia: "vt"), Defaults))
            .Concat(Evaluate(Readings.Cpap(3, Readings.January15, leak: 80, respiratoryRate: 40), Defaults))
            .ToDictionary(a => a.Rule, a => a.Severity);

        Assert.Equal(new Dictionary<string, string>
        {
            [AlertRuleNames.OxygenPurityLow] = AlertSeverity.Critical,
            [AlertRuleNames.OxygenAlarm] = AlertSeverity.Critical,
            [AlertRuleNames.EcgArrhythmia] = AlertSeverity.Critical,
            [AlertRuleNames.EcgHrLow] = AlertSeverity.Warning,
            [AlertRuleNames.CpapLeakHigh] = AlertSeverity.Warning,
            [AlertRuleNames.CpapRrHigh] = AlertSeverity.Warning,
        }, alerts);
    }

    [Fact]
    public void A_reading_inside_every_threshold_raises_nothing_and_allocates_no_list()
    {
        List<Alert>? alerts = null;

        Assert.Equal(0, AlertRules.Evaluate(Readings.Cpap(1, Readings.January15), Defaults, Now, ref alerts));
        Assert.Equal(0, AlertRules.Evaluate(Readings.Oxygen(2, Readings.January15), Defaults, Now, ref alerts));
        Assert.Equal(0, AlertRules.Evaluate(Readings.Ecg(3, Readings.January15), Defaults, Now, ref alerts));
        Assert.Null(alerts);
    }

    [Fact]
    public void Default_thresholds_carry_no_config_version()
    {
        Assert.All(
            Evaluate(Readings.Cpap(1, Readings.January15, leak: 90), AlertRules.Defaults(Options, "clinic-a"))
                .Concat(Evaluate(Readings.Ecg(2, Readings.January15, heartRate: 20), Defaults)),
            a => Assert.Null(a.ConfigVersion));
    }

    [Fact]
    public void Ecg_config_sets_the_heart_rate_band_and_its_version()
    {
        var thresholds = AlertRules.FromConfig(Options, "clinic-a", 5,
            """{"hr_low_bpm":50,"hr_high_bpm":120,"sampling_rate_hz":500,"lead":"II"}""");

        var low = Assert.Single(Evaluate(Readings.Ecg(1, Readings.January15, heartRate: 45), thresholds));
        var high = Assert.Single(Evaluate(Readings.Ecg(2, Readings.January15, heartRate: 121), thresholds));

        Assert.Equal((AlertRuleNames.EcgHrLow, 50.0, 5), (low.Rule, low.Threshold, low.ConfigVersion));
        Assert.Equal((AlertRuleNames.EcgHrHigh, 120.0, 5), (high.Rule, high.Threshold, high.ConfigVersion));
    }

    [Fact]
    public void A_whole_config_message_is_read_like_the_config_object()
    {
        var thresholds = AlertRules.FromConfig(Options, null, 2,
            """{"serial":"CPAP-2301-9912","version":2,"config":{"target_pressure":12,"humidity_level":3,"alerts":{"leak_threshold":40,"rr_low":8,"rr_high":30}}}""");

        Assert.Equal((2, 40.0, 8.0, 30.0), (thresholds.CpapConfigVersion, thresholds.CpapLeakThreshold, thresholds.CpapRrLow, thresholds.CpapRrHigh));
        Assert.Null(thresholds.EcgConfigVersion);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"alerts":{"leak_threshold":"high","rr_low":8,"rr_high":30}}""")]
    [InlineData("""{"alerts":{"leak_threshold":40,"rr_low":8}}""")]
    [InlineData("""{"flow_rate_lpm":3.0,"night_mode":true,"maintenance_due_date":"2026-01-15"}""")]
    public void A_config_without_usable_thresholds_leaves_the_defaults_and_no_version(string? config)
    {
        Assert.Equal(AlertRules.Defaults(Options, "clinic-a"), AlertRules.FromConfig(Options, "clinic-a", 4, config));
    }

    [Fact]
    public void Changed_defaults_apply_when_there_is_no_config()
    {
        var options = new AlertOptions { OxygenPurityFloorPct = 90 };

        Assert.Single(Evaluate(Readings.Oxygen(1, Readings.January15, purity: 89), AlertRules.FromConfig(options, null, null, null)));
    }

    [Fact]
    public void Alert_ids_are_name_based_uuids_of_reading_id_and_rule()
    {
        var reading = new Guid("0f0e0d0c-0b0a-4908-8706-050403020100");

        // Python: uuid.uuid5(uuid.UUID("ddaabfb8-7441-5df8-ab8c-f9ef8a7acd22"), str(reading) + "/cpap.leak_high")
        Assert.Equal(new Guid("295c5268-d20b-546f-815a-10026713fbd0"), AlertId.From(reading, AlertRuleNames.CpapLeakHigh));
        Assert.NotEqual(AlertId.From(reading, AlertRuleNames.CpapLeakHigh), AlertId.From(reading, AlertRuleNames.CpapRrHigh));
        Assert.Equal(AlertId.From(reading, AlertRuleNames.CpapRrHigh), AlertId.From(reading, AlertRuleNames.CpapRrHigh));
    }

    [Fact]
    public void A_reading_re_sent_under_another_journal_identity_raises_the_same_alert()
    {
        // A device whose PUBACK was lost re-sends the same bytes; after an agent restart the gateway journals them again
        // under a new sequence, so a new reading id. The store keeps one row (the content id); the alert must be one too.
        var first = Readings.Oxygen(1, Readings.January15, purity: 80);
        var resent = Readings.Oxygen(1001, Readings.January15, purity: 80);

        var alerts = Evaluate(first, AlertRules.FromConfig(new AlertOptions(), null, null, null));
        var again = Evaluate(resent, AlertRules.FromConfig(new AlertOptions(), null, null, null));

        Assert.NotEqual(first.Id, resent.Id);
        Assert.Equal(AlertId.From(first.ContentId, AlertRuleNames.OxygenPurityLow), Assert.Single(alerts).Id);
        Assert.Equal(alerts.Select(a => a.Id), again.Select(a => a.Id));
    }

    [Fact]
    public void The_alert_id_namespace_is_derived_from_its_urn()
    {
        // Python: uuid.uuid5(uuid.NAMESPACE_URL, "urn:clinic-edge:alert-id:v1")
        Assert.Equal(new Guid("ddaabfb8-7441-5df8-ab8c-f9ef8a7acd22"), AlertId.Namespace);
    }

    private static List<Alert> Evaluate(StoredReading reading, DeviceThresholds thresholds)
    {
        List<Alert>? alerts = null;
        AlertRules.Evaluate(reading, thresholds, Now, ref alerts);
        return alerts ?? [];
    }
}
