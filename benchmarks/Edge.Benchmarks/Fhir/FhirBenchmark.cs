using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Fhir;
using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Contracts.Payloads;
using Edge.Storage;
using Edge.Storage.Queries;
using Edge.Testing.Api;
using Edge.Testing.Postgres;
using Edge.Testing.S3;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace Edge.Benchmarks.Fhir;

/// <summary>
/// The FHIR API over N stored readings of one oxygen concentrator, through the real API host, PostgreSQL and s3rver:
/// a paged Observation search followed to its last page (Observations per second), and a bulk export of the clinic
/// to NDJSON in S3 (readings per second from kick-off to the manifest). Also prints the JSON size of one ECG reading as
/// a panel and as one Observation per metric, the measure behind the panel choice (docs/fhir.md).
/// </summary>
internal static class FhirBenchmark
{
    private const string Serial = "OXY-7000-0001";
    private const string Gateway = "gw-bench";

    public static async Task<int> RunAsync(int readings, int pageSize)
    {
        PrintShapeSizes();
        PrintSerializationRate(readings);
        var postgres = new PostgresServer();
        await using var s3 = await S3rverServer.StartNewAsync();
        try
        {
            await postgres.StartAsync();
            var connection = await postgres.CreateDatabaseAsync("fhir_bench");
            // Only warnings on stderr: stdout is for the JSON lines.
            await using var api = await InProcessApi.StartAsync(connection, [.. s3.ReportSettings, "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning"]);
            var admin = api.As("admin");
            (await admin.PostAsJsonAsync("/v1/clinics", new { id = "bench", name = "Bench" })).EnsureSuccessStatusCode();
            (await admin.PostAsJsonAsync("/v1/devices", new { serial = Serial, clinic_id = "bench", owner = "MRN-BENCH" })).EnsureSuccessStatusCode();

            JsonLine.Progress($"fhir: storing {readings} oxygen readings");
            var stores = api.Services.GetRequiredService<StoreFactory>();
            var start = TimeProvider.System.GetUtcNow().AddMinutes(1);
            for (var written = 0; written < readings; written += 1000)
            {
                var batch = Enumerable.Range(written, Math.Min(1000, readings - written)).Select(i => Reading(i, start.AddMilliseconds(i * 20L))).ToList();
                await stores.Oxygen.WriteAsync(batch, CancellationToken.None);
            }

            var client = api.Client(api.Token("clinician", ["bench"], "fhir-bench", scopes: ["system/*.read"]));
            var url = $"/fhir/r4/Observation?device=Device/{Serial}&_count={pageSize}";
            JsonLine.Progress("fhir: warming up (one search to the end)");
            await SearchAsync(client, url);
            var searched = Stopwatch.StartNew();
            var (found, pages) = await SearchAsync(client, url);
            searched.Stop();
            JsonLine.Write(new()
            {
                ["benchmark"] = "fhir-search",
                ["readings"] = readings,
                ["page_size"] = pageSize,
                ["pages"] = pages,
                ["observations"] = found,
                ["seconds"] = searched.Elapsed.TotalSeconds,
                ["observations_per_second"] = found / searched.Elapsed.TotalSeconds,
            });

            JsonLine.Progress("fhir: bulk export of the clinic (Observation)");
            var exported = Stopwatch.StartNew();
            var count = await ExportAsync(client, "/fhir/r4/Group/bench/$export?_type=Observation");
            exported.Stop();
            JsonLine.Write(new()
            {
                ["benchmark"] = "fhir-export",
                ["readings"] = readings,
                ["exported"] = count,
                ["seconds"] = exported.Elapsed.TotalSeconds,
                ["readings_per_second"] = count / exported.Elapsed.TotalSeconds,
            });
            return found == readings && count == readings ? 0 : 1;
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    private static async Task<(long Found, int Pages)> SearchAsync(HttpClient client, string url)
    {
        long found = 0;
        var pages = 0;
        string? next = url;
        while (next is not null)
        {
            using var response = await client.GetAsync(next);
            response.EnsureSuccessStatusCode();
            using var bundle = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
            found += bundle.RootElement.TryGetProperty("entry", out var entries) ? entries.GetArrayLength() : 0;
            pages++;
            next = null;
            foreach (var link in bundle.RootElement.GetProperty("link").EnumerateArray())
            {
                if (link.GetProperty("relation").GetString() == "next")
                {
                    next = link.GetProperty("url").GetString();
                }
            }
        }
        return (found, pages);
    }

    private static async Task<long> ExportAsync(HttpClient client, string url)
    {
        using var kickOff = await client.GetAsync(url);
        if (kickOff.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"kick-off answered {(int)kickOff.StatusCode}: {await kickOff.Content.ReadAsStringAsync()}");
        }
        var status = kickOff.Content.Headers.ContentLocation!.ToString();
        while (true)
        {
            using var response = await client.GetAsync(status);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var manifest = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return manifest.RootElement.GetProperty("output").EnumerateArray().Sum(o => o.GetProperty("count").GetInt64());
            }
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"status answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            await Task.Delay(50);
        }
    }

    private static StoredReading Reading(int i, DateTimeOffset time)
    {
        var telemetry = new OxygenTelemetry(Serial, time, new OxygenMetrics(90 + (i % 10), 2.5, 37.2, 80, i % 500 == 0 ? "LOW_PURITY" : null), "online");
        var raw = JsonSerializer.SerializeToUtf8Bytes(telemetry, ContractsJsonContext.Default.OxygenTelemetry);
        return new StoredReading(ReadingId.From(Gateway, 1, i + 1), ContentId.From(Serial, raw), Gateway, 1, i + 1, SerialNumber.Parse(Serial),
            time, time.AddMilliseconds(250), i % 500 == 0, raw, telemetry);
    }

    /// <summary>One ECG reading serialized as the panel the API serves, and as one Observation per component.</summary>
    private static void PrintShapeSizes()
    {
        var time = new DateTimeOffset(2026, 1, 15, 8, 0, 0, TimeSpan.Zero);
        var telemetry = new EcgTelemetry("ECG-7000-0001", time, new EcgMetrics(72, 92, 380, "none", "good", 41), "II");
        var row = new TelemetryRow(Guid.NewGuid(), "ECG-7000-0001", time, time.AddMilliseconds(250), time.AddSeconds(1), Gateway, 1, 1, false,
            JsonSerializer.Serialize(telemetry, ContractsJsonContext.Default.EcgTelemetry));
        var panel = FhirResources.ObservationOf(row, DeviceKind.Ecg, "MRN-1", "urn:clinic-edge:device-owner");
        var panelBytes = Size(panel);
        long splitBytes = 0;
        foreach (var component in panel.Component)
        {
            var single = (Observation)panel.DeepCopy();
            single.Component.Clear();
            single.Code = component.Code;
            single.Value = component.Value;
            splitBytes += Size(single);
        }
        JsonLine.Write(new()
        {
            ["benchmark"] = "fhir-shape",
            ["kind"] = "ecg",
            ["components"] = panel.Component.Count,
            ["panel_bytes"] = panelBytes,
            ["per_metric_bytes"] = splitBytes,
            ["per_metric_resources"] = panel.Component.Count,
        });
    }

    /// <summary>The CPU part alone, on one thread: stored rows to Observations to NDJSON bytes in memory (no database, no S3).</summary>
    private static void PrintSerializationRate(int readings)
    {
        var start = new DateTimeOffset(2026, 1, 15, 8, 0, 0, TimeSpan.Zero);
        var rows = Enumerable.Range(0, readings).Select(i =>
        {
            var reading = Reading(i, start.AddMilliseconds(i * 20L));
            return new TelemetryRow(reading.Id, Serial, reading.DeviceTime, reading.GatewayReceivedAt, reading.DeviceTime.AddSeconds(1), Gateway, 1, i + 1, reading.Urgent,
                System.Text.Encoding.UTF8.GetString(reading.RawJson.Span));
        }).ToList();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        using var writer = new Utf8JsonWriter(buffer);
        for (var round = 0; round < 2; round++)
        {
            // The first round warms the JIT and the SDK's type metadata; the second is measured.
            var watch = Stopwatch.StartNew();
            long bytes = 0;
            foreach (var row in rows)
            {
                buffer.ResetWrittenCount();
                writer.Reset(buffer);
                FhirResults.Write(FhirResources.ObservationOf(row, DeviceKind.Oxygen, "MRN-BENCH", "urn:clinic-edge:device-owner"), writer);
                writer.Flush();
                bytes += buffer.WrittenCount + 1;
            }
            watch.Stop();
            if (round == 1)
            {
                JsonLine.Write(new()
                {
                    ["benchmark"] = "fhir-serialize",
                    ["readings"] = readings,
                    ["threads"] = 1,
                    ["ndjson_bytes"] = bytes,
                    ["seconds"] = watch.Elapsed.TotalSeconds,
                    ["readings_per_second"] = readings / watch.Elapsed.TotalSeconds,
                });
            }
        }
    }

    private static long Size(Resource resource)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            FhirResults.Write(resource, writer);
        }
        return buffer.Length;
    }
}
