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

/// <summary>
/// Attacks on the analytics across clinics: after a transfer the new clinic must see none of the old clinic's hours
/// (the rollups sum up both clinics' readings), and a clinic must not read another clinic's device or table.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class AnalyticsScopingTests(PostgresServer server) : ApiTest(server)
{
    private const string Moved = "CPAP-2301-9912";
    private const string NorthOnly = "CPAP-2301-9913";

    // Six nights of readings, one a minute from 22:00 to 06:00 UTC (8 h a night), received 250 ms after the device time.
    private static readonly DateTimeOffset FirstNight = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    // The transfer: the fourth night, 02:30 UTC, half way through an hour (the straddling hour is computed from the readings).
    private static readonly DateTimeOffset Transfer = new(2026, 1, 5, 2, 30, 0, TimeSpan.Zero);

    private StoreFactory Stores => Api.Services.GetRequiredService<StoreFactory>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterGatewayAsync("gw-north", "north");
        await RegisterGatewayAsync("gw-south", "south");
        await RegisterDeviceAsync(Moved, "north", "gw-north");
        await RegisterDeviceAsync(NorthOnly, "north", "gw-north");
        (await Admin.PostAsJsonAsync($"/v1/devices/{Moved}/transfer", new { clinic_id = "south", gateway_id = "gw-south" })).EnsureSuccessStatusCode();
        // The periods as they would be had the transfer happened at Transfer (the API stamps the real clock).
        await ExecuteAsync("UPDATE device_ownership SET from_at = $2 WHERE serial = ANY ($1) AND clinic_id = 'north'", [Moved, NorthOnly], FirstNight.AddDays(-1));
        await ExecuteAsync("UPDATE device_ownership SET to_at = $2 WHERE serial = ANY ($1) AND clinic_id = 'north' AND to_at IS NOT NULL", [Moved], Transfer);
        await ExecuteAsync("UPDATE device_ownership SET from_at = $2 WHERE serial = ANY ($1) AND clinic_id = 'south'", [Moved], Transfer);

        foreach (var serial in new[] { Moved, NorthOnly })
        {
            await Stores.Cpap.WriteAsync(Nights(serial), CancellationToken.None);
        }
    }

    [Fact]
    public async Task After_a_transfer_the_new_clinic_sees_none_of_the_old_clinics_hours()
    {
        var south = await ReadAsync(await Api.As("clinician", "south").GetAsync(DeviceUrl(Moved)), HttpStatusCode.OK);

        var nights = UsageByNight(south);
        // Nights 1-3 were north's; night 4 is south's from 02:30 (3.5 of its 8 hours); nights 5-6 are south's.
        Assert.Equal([0, 0, 0, 3.5, 8, 8], nights);
        Assert.Equal(2, south.GetProperty("cpap").GetProperty("summary").GetProperty("adherent_nights").GetInt32());

        var table = await ReadAsync(await Api.As("clinician", "south").GetAsync(ClinicUrl("south")), HttpStatusCode.OK);
        var row = Assert.Single(table.GetProperty("items").EnumerateArray());
        Assert.Equal(Moved, row.GetProperty("serial").GetString());
        Assert.Equal(2, row.GetProperty("cpap").GetProperty("adherent_nights").GetInt32());
        Assert.Equal(19.5 / 6, row.GetProperty("cpap").GetProperty("mean_usage_hours").GetDouble(), 9);
    }

    [Fact]
    public async Task The_old_clinic_keeps_its_own_hours_and_nothing_after_the_transfer()
    {
        var north = await ReadAsync(await Api.As("clinician", "north").GetAsync(DeviceUrl(Moved)), HttpStatusCode.OK);

        Assert.Equal([8, 8, 8, 4.5, 0, 0], UsageByNight(north));
        var table = await ReadAsync(await Api.As("clinician", "north").GetAsync(ClinicUrl("north")), HttpStatusCode.OK);
        var rows = table.GetProperty("items").EnumerateArray().ToDictionary(r => r.GetProperty("serial").GetString()!, r => r.GetProperty("cpap"));
        Assert.Equal(4, rows[Moved].GetProperty("adherent_nights").GetInt32());
        Assert.Equal(6, rows[NorthOnly].GetProperty("adherent_nights").GetInt32());
        // An admin reads every hour of the device.
        var admin = await ReadAsync(await Admin.GetAsync(DeviceUrl(Moved)), HttpStatusCode.OK);
        Assert.Equal([8, 8, 8, 8, 8, 8], UsageByNight(admin));
    }

    [Fact]
    public async Task A_clinician_of_another_clinic_gets_404_for_its_device_and_its_clinic()
    {
        var southClinician = Api.As("clinician", "south");

        var device = await southClinician.GetAsync(DeviceUrl(NorthOnly));
        var clinic = await southClinician.GetAsync(ClinicUrl("north"));

        Assert.Equal(HttpStatusCode.NotFound, device.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, clinic.StatusCode);
        Assert.DoesNotContain(NorthOnly, await clinic.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static List<StoredReading> Nights(string serial)
    {
        var readings = new List<StoredReading>();
        var sequence = 0L;
        for (var night = 0; night < 6; night++)
        {
            var start = FirstNight.AddDays(night).AddHours(10);
            for (var minute = 0; minute < 8 * 60; minute++)
            {
                readings.Add(Readings.Cpap(++sequence, start.AddMinutes(minute), pressure: 9, leak: 10, serial: serial,
                    gateway: night < 3 ? "gw-north" : "gw-south", epoch: serial == Moved ? 1 : 2));
            }
        }
        return readings;
    }

    private static List<double> UsageByNight(JsonElement analytics) =>
        [.. analytics.GetProperty("cpap").GetProperty("nights").EnumerateArray().Select(n => n.GetProperty("usage_hours").GetDouble())];

    private static string DeviceUrl(string serial) => $"/v1/devices/{serial}/analytics?from={Iso(FirstNight)}&to={Iso(FirstNight.AddDays(6))}";

    private static string ClinicUrl(string clinic) => $"/v1/clinics/{clinic}/analytics?kind=cpap&from={Iso(FirstNight)}&to={Iso(FirstNight.AddDays(6))}";

    private async Task ExecuteAsync(string sql, string[] serials, DateTimeOffset at)
    {
        await using var command = Probe.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = serials });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        await command.ExecuteNonQueryAsync();
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
