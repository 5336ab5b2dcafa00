using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Edge.Api.Tests.Analytics;

/// <summary>The analytics endpoints on seeded readings with answers known in advance.</summary>
[Collection(PostgresServer.Collection)]
public sealed class AnalyticsEndpointTests(PostgresServer server) : ApiTest(server)
{
    private const string Adherent = "CPAP-3000-0021";
    private const string NotAdherent = "CPAP-3000-0020";
    private const string Ecg = "ECG-7711-0045";
    private const string Oxygen = "OXY-8844-5521";

    private static readonly DateTimeOffset FirstNight = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private StoreFactory Stores => Api.Services.GetRequiredService<StoreFactory>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await RegisterGatewayAsync("gw-north", "north");
        foreach (var serial in new[] { Adherent, NotAdherent, Ecg, Oxygen })
        {
            await RegisterDeviceAsync(serial, "north", "gw-north");
        }
        // Registration opens the clinic's period now; the seeded readings are older.
        await using var command = Probe.CreateCommand("UPDATE device_ownership SET from_at = $1");
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = FirstNight.AddDays(-10) });
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Twenty_one_nights_of_thirty_with_four_hours_meet_the_payers_rule_and_twenty_do_not()
    {
        await Stores.Cpap.WriteAsync(ThirtyNights(Adherent, adherentNights: 21), CancellationToken.None);
        await Stores.Cpap.WriteAsync(ThirtyNights(NotAdherent, adherentNights: 20), CancellationToken.None);
        var clinician = Api.As("clinician", "north");

        var adherent = (await ReadAsync(await clinician.GetAsync(DeviceUrl(Adherent)), HttpStatusCode.OK)).GetProperty("cpap");
        var notAdherent = (await ReadAsync(await clinician.GetAsync(DeviceUrl(NotAdherent)), HttpStatusCode.OK)).GetProperty("cpap");

        var summary = adherent.GetProperty("summary");
        Assert.Equal(30, summary.GetProperty("nights").GetInt32());
        Assert.Equal(21, summary.GetProperty("adherent_nights").GetInt32());
        Assert.Equal(0.7, summary.GetProperty("adherence_share").GetDouble(), 9);
        Assert.True(summary.GetProperty("meets_adherence_rule").GetBoolean());
        Assert.True(summary.GetProperty("best_30_days").GetProperty("adherent").GetBoolean());
        Assert.Equal(21, summary.GetProperty("last_30_days").GetProperty("adherent_nights").GetInt32());
        Assert.Equal(9.5, summary.GetProperty("mean_pressure_cm_h2o").GetDouble(), 9);
        var nights = adherent.GetProperty("nights").EnumerateArray().ToList();
        Assert.Equal(FirstNight, nights[0].GetProperty("night_start").GetDateTimeOffset());
        Assert.Equal((4.0, true), (nights[0].GetProperty("usage_hours").GetDouble(), nights[0].GetProperty("adherent").GetBoolean()));
        Assert.Equal((239 / 60.0, false), (nights[29].GetProperty("usage_hours").GetDouble(), nights[29].GetProperty("adherent").GetBoolean()));

        var other = notAdherent.GetProperty("summary");
        Assert.Equal(20, other.GetProperty("adherent_nights").GetInt32());
        Assert.False(other.GetProperty("meets_adherence_rule").GetBoolean());
        Assert.False(other.GetProperty("best_30_days").GetProperty("adherent").GetBoolean());
    }

    [Fact]
    public async Task The_clinic_table_ranks_the_non_adherent_device_first_with_its_reason()
    {
        await Stores.Cpap.WriteAsync(ThirtyNights(Adherent, adherentNights: 21), CancellationToken.None);
        await Stores.Cpap.WriteAsync(ThirtyNights(NotAdherent, adherentNights: 20), CancellationToken.None);

        var table = await ReadAsync(await Api.As("clinician", "north").GetAsync(ClinicUrl("cpap")), HttpStatusCode.OK);

        var rows = table.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([NotAdherent, Adherent], rows.Select(r => r.GetProperty("serial").GetString()));
        Assert.Equal([1, 2], rows.Select(r => r.GetProperty("rank").GetInt32()));
        var reason = Assert.Single(rows[0].GetProperty("reasons").EnumerateArray());
        Assert.Equal("non_adherent", reason.GetProperty("code").GetString());
        Assert.Equal(3, rows[0].GetProperty("concern_score").GetInt32());
        Assert.Empty(rows[1].GetProperty("reasons").EnumerateArray());
        Assert.Equal(20, rows[0].GetProperty("cpap").GetProperty("adherent_nights").GetInt32());

        // One row a page: the cursor carries on in rank order.
        var first = await ReadAsync(await Admin.GetAsync(ClinicUrl("cpap") + "&limit=1"), HttpStatusCode.OK);
        Assert.Equal(NotAdherent, first.GetProperty("items")[0].GetProperty("serial").GetString());
        var second = await ReadAsync(await Admin.GetAsync(ClinicUrl("cpap") + "&limit=1&cursor=" + first.GetProperty("next_cursor").GetString()), HttpStatusCode.OK);
        Assert.Equal(Adherent, second.GetProperty("items")[0].GetProperty("serial").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task ECG_burden_HRV_QTc_and_signal_quality_match_the_hand_computed_values()
    {
        // One hour, a reading a minute: 6 AFib at 120 bpm (QTc 360/√0.5 = 509.1 ms), 3 PVC and 51 none at 60 bpm (QTc 400 ms);
        // RMSSD 30 ms on 50 readings and 150 ms on 10; 45 good signals.
        await Stores.Ecg.WriteAsync(Readings.EcgHour(FirstNight), CancellationToken.None);

        var ecg = (await ReadAsync(await Api.As("clinician", "north").GetAsync(DeviceUrl(Ecg)), HttpStatusCode.OK)).GetProperty("ecg");

        var summary = ecg.GetProperty("summary");
        var burden = summary.GetProperty("arrhythmias").EnumerateArray()
            .ToDictionary(a => a.GetProperty("type").GetString()!, a => a.GetProperty("burden_pct").GetDouble());
        Assert.Equal(2, burden.Count);
        Assert.Equal(10, burden["afib"], 9);
        Assert.Equal(5, burden["pvc"], 9);
        Assert.Equal(15, summary.GetProperty("arrhythmia_burden_pct").GetDouble(), 9);
        Assert.Equal(1, summary.GetProperty("monitored_hours").GetDouble(), 9);
        Assert.Equal(50, summary.GetProperty("mean_hrv_rmssd_ms").GetDouble(), 9);
        Assert.Equal(((54 * 400) + (6 * 360 / Math.Sqrt(0.5))) / 60, summary.GetProperty("mean_qtc_ms").GetDouble(), 9);
        Assert.Equal(6, summary.GetProperty("long_qt_count").GetInt64());
        Assert.Equal(0.75, summary.GetProperty("good_signal_share").GetDouble(), 9);
        var hour = Assert.Single(ecg.GetProperty("hours").EnumerateArray());
        Assert.Equal(66, hour.GetProperty("mean_heart_rate_bpm").GetDouble(), 9);

        var table = await ReadAsync(await Api.As("clinician", "north").GetAsync(ClinicUrl("ecg")), HttpStatusCode.OK);
        var codes = table.GetProperty("items")[0].GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("code").GetString());
        Assert.Equal(["long_qt", "high_arrhythmia_burden", "poor_signal"], codes);
    }

    [Fact]
    public async Task Oxygen_minutes_below_purity_alarms_and_the_maintenance_due_date()
    {
        await Stores.Oxygen.WriteAsync(Readings.OxygenHour(FirstNight.AddHours(14)), CancellationToken.None);
        var config = new { flow_rate_lpm = 2.0, night_mode = false, maintenance_due_date = "2026-01-20" };
        await ReadAsync(await Api.As("clinician", "north").PutAsJsonAsync($"/v1/devices/{Oxygen}/config", config), HttpStatusCode.Accepted);

        var oxygen = (await ReadAsync(await Api.As("clinician", "north").GetAsync(DeviceUrl(Oxygen)), HttpStatusCode.OK)).GetProperty("oxygen");

        var summary = oxygen.GetProperty("summary");
        Assert.Equal(7, summary.GetProperty("minutes_below_purity").GetDouble(), 9);
        Assert.Equal(85, summary.GetProperty("purity_threshold_pct").GetDouble());
        Assert.Equal(50 / 60.0, summary.GetProperty("use_hours").GetDouble(), 9);
        Assert.Equal(2, summary.GetProperty("mean_flow_lpm").GetDouble(), 9);
        Assert.Equal([("LOW_PURITY", 3L), ("E07", 1L)],
            summary.GetProperty("alarms").EnumerateArray().Select(a => (a.GetProperty("code").GetString(), a.GetProperty("count").GetInt64())));
        Assert.Equal("2026-01-20", summary.GetProperty("maintenance_due_date").GetString());
        Assert.True(summary.GetProperty("maintenance_overdue").GetBoolean());
        var day = oxygen.GetProperty("days").EnumerateArray().Single(d => d.GetProperty("day").GetDateTimeOffset() == FirstNight.AddHours(12));
        Assert.Equal(50 / 60.0, day.GetProperty("use_hours").GetDouble(), 9);
        Assert.Equal(7, day.GetProperty("minutes_below_purity").GetDouble(), 9);
    }

    [Fact]
    public async Task Windows_longer_than_90_days_and_a_missing_kind_are_refused_naming_the_parameter()
    {
        var clinician = Api.As("clinician", "north");

        await AssertBadParameterAsync(await clinician.GetAsync($"/v1/devices/{Adherent}/analytics?from={Iso(FirstNight)}&to={Iso(FirstNight.AddDays(91))}"), "from");
        await AssertBadParameterAsync(await clinician.GetAsync($"/v1/devices/{Adherent}/analytics?from={Iso(FirstNight)}&to={Iso(FirstNight)}"), "from");
        await AssertBadParameterAsync(await clinician.GetAsync($"/v1/devices/{Adherent}/analytics?from=yesterday"), "from");
        await AssertBadParameterAsync(await clinician.GetAsync("/v1/clinics/north/analytics"), "kind");
        await AssertBadParameterAsync(await clinician.GetAsync("/v1/clinics/north/analytics?kind=cpap&cursor=%21"), "cursor");
        Assert.Equal(HttpStatusCode.OK, (await clinician.GetAsync($"/v1/devices/{Adherent}/analytics?from={Iso(FirstNight)}&to={Iso(FirstNight.AddDays(90))}")).StatusCode);
    }

    /// <summary>30 nights, a reading a minute from 22:00 UTC: 240 minutes in use on the first <paramref name="adherentNights"/>, 239 on the rest.</summary>
    private static List<StoredReading> ThirtyNights(string serial, int adherentNights)
    {
        var readings = new List<StoredReading>();
        var sequence = 0L;
        // Each device its own journal epoch: the same gateway, epoch and sequence would be the same reading id.
        var epoch = adherentNights;
        for (var night = 0; night < 30; night++)
        {
            var start = FirstNight.AddDays(night).AddHours(10);
            var minutes = night < adherentNights ? 240 : 239;
            for (var minute = 0; minute < minutes; minute++)
            {
                readings.Add(Readings.Cpap(++sequence, start.AddMinutes(minute).AddSeconds(20), pressure: 9.5, leak: 12, serial: serial, epoch: epoch));
            }
            // The machine switched off: pressure 0, which is not use.
            readings.Add(Readings.Cpap(++sequence, start.AddMinutes(minutes).AddSeconds(20), pressure: 0, leak: 0, serial: serial, epoch: epoch));
        }
        return readings;
    }

    private static string DeviceUrl(string serial) => $"/v1/devices/{serial}/analytics?from={Iso(FirstNight)}&to={Iso(FirstNight.AddDays(30))}";

    private static string ClinicUrl(string kind) => $"/v1/clinics/north/analytics?kind={kind}&from={Iso(FirstNight)}&to={Iso(FirstNight.AddDays(30))}";

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
