using System.Diagnostics;
using System.Text.Json;
using Edge.Api.Registry;
using Edge.Contracts.Devices;
using Edge.Storage;
using Edge.Storage.Queries;
using Edge.Storage.Reports;
using Microsoft.Extensions.Options;
using FhirResource = Hl7.Fhir.Model.Resource;

namespace Edge.Api.Fhir;

/// <summary>
/// Runs bulk export jobs: claims one from <c>fhir_export_jobs</c> (any replica may have queued it), writes one NDJSON
/// file per resource type of the clinic's data to the report bucket, and records the files for the status poll. Jobs run
/// one at a time per replica; more replicas run more at once.
/// </summary>
/// <remarks>
/// A clinic's export is what the clinic may read on the REST API: its devices now (Device), and the readings and reports
/// its gateways received while it held each device (every device it ever held, within its ownership periods).
/// </remarks>
internal sealed class FhirExportRunner(
    FhirExportJobs jobs, RegistryStore registry, StoreFactory stores, ReportStore reports, ReportObjects objects,
    IOptions<FhirOptions> options, TimeProvider time, ILogger<FhirExportRunner> logger) : BackgroundService
{
    public const string NdjsonContentType = "application/fhir+ndjson";

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>How often a running job says it is alive (and how far it got), well inside <see cref="FhirExportJobs.StaleAfter"/>.</summary>
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>How often a running job reads whether it was cancelled (a DELETE on its status URL, on any replica).</summary>
    private static readonly TimeSpan CancelCheckInterval = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>Starts the next claim now instead of at the next poll (a job was just queued on this replica).</summary>
    public void Wake() => _wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            ExportJob? job = null;
            try
            {
                job = await jobs.ClaimAsync(time.GetUtcNow(), stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                Log.FhirExportClaimFailed(logger, PollInterval, error);
            }
            if (job is not null)
            {
                await RunAsync(job, stoppingToken);
                continue;
            }
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            poll.CancelAfter(PollInterval);
            try
            {
                await _wake.WaitAsync(poll.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Runs one job to its end; a failure is recorded on the job (the client sees it), never thrown.</summary>
    public async Task RunAsync(ExportJob job, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var directory = Directory.CreateTempSubdirectory("edge-fhir-export-");
        var files = new List<ExportFile>();
        try
        {
            var devices = await DevicesAsync(job.ClinicId, job.Since, cancellationToken);
            foreach (var type in job.Types)
            {
                var path = Path.Combine(directory.FullName, type + ".ndjson");
                long count;
                await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.None))
                {
                    count = type switch
                    {
                        "Device" => await WriteDevicesAsync(job, devices, file, cancellationToken),
                        "Observation" => await WriteObservationsAsync(job, devices, file, cancellationToken),
                        "DiagnosticReport" => await WriteReportsAsync(job, devices, file, cancellationToken),
                        _ => throw new InvalidOperationException($"export type {type}"),
                    };
                    await file.FlushAsync(cancellationToken);
                    file.Position = 0;
                    var key = $"fhir-exports/{job.ClinicId}/{job.Id:D}/{type}.ndjson";
                    await objects.PutObjectAsync(key, file, NdjsonContentType, cancellationToken);
                    files.Add(new ExportFile(type, key, count));
                }
                if (!await jobs.ProgressAsync(job.Id, $"{type}: {count} resources written", time.GetUtcNow(), cancellationToken))
                {
                    throw new ExportCancelledException();
                }
            }
            if (!await jobs.FinishAsync(job.Id, files, null, time.GetUtcNow(), cancellationToken))
            {
                throw new ExportCancelledException();
            }
            Log.FhirExportCompleted(logger, job.Id, job.ClinicId, files.Sum(f => f.Count), files.Count, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (ExportCancelledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Cancelled by a DELETE on its status URL: what was already uploaded goes now, not at the bucket's lifecycle rule.
            Log.FhirExportCancelled(logger, job.Id, job.ClinicId, files.Count);
            await DeleteFilesAsync(files.Select(f => f.Key), cancellationToken);
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            Log.FhirExportFailed(logger, job.Id, job.ClinicId, error);
            try
            {
                await jobs.FinishAsync(job.Id, null, "The export failed on the server; see the API's log (event 8902). Start it again.", time.GetUtcNow(), cancellationToken);
            }
            catch (Exception recordError) when (!cancellationToken.IsCancellationRequested)
            {
                // The job stays running, its heartbeat stops, and another runner takes it over after StaleAfter.
                Log.FhirExportClaimFailed(logger, PollInterval, recordError);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Deletes a cancelled job's files; one that cannot be deleted is left to the bucket's lifecycle rule.</summary>
    public async Task DeleteFilesAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            try
            {
                await objects.DeleteObjectAsync(key, cancellationToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                Log.FhirExportDeleteFailed(logger, key, error);
            }
        }
    }

    /// <summary>
    /// Every device the clinic ever held, by serial, with its windows in the clinic (from <paramref name="since"/> on,
    /// when the kick-off gave one) and whose patient it is now.
    /// </summary>
    private async Task<List<FhirDevice>> DevicesAsync(string clinicId, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var serials = new List<string>();
        await using (var command = registry.DataSource.CreateCommand("SELECT DISTINCT serial FROM device_ownership WHERE clinic_id = $1 ORDER BY serial"))
        {
            command.Parameters.Add(RegistryStore.Text(clinicId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                serials.Add(reader.GetString(0));
            }
        }
        var devices = new List<FhirDevice>(serials.Count);
        foreach (var serial in serials)
        {
            if (await registry.GetDeviceAsync(serial, cancellationToken) is not { } device)
            {
                continue;
            }
            var periods = await DeviceOwnership.PeriodsAsync(registry.DataSource, serial, [clinicId], cancellationToken);
            var current = device.ClinicId == clinicId && device.Status == "active" && device.Owner is not null ? periods.LastOrDefault(p => p.To is null) : null;
            devices.Add(new FhirDevice(device, Since(periods, since), current?.From));
        }
        return devices;
    }

    /// <summary>The windows cut to what was received at or after <paramref name="since"/>; a window wholly before it goes.</summary>
    internal static IReadOnlyList<ReceivedWindow> Since(IReadOnlyList<ReceivedWindow> windows, DateTimeOffset? since)
    {
        if (since is not { } from)
        {
            return windows;
        }
        var cut = new List<ReceivedWindow>(windows.Count);
        foreach (var window in windows)
        {
            if (window.To is null || window.To > from)
            {
                cut.Add(window.From >= from ? window : window with { From = from });
            }
        }
        return cut;
    }

    /// <summary>Throws <see cref="ExportCancelledException"/> once the job was cancelled; reads the row at most every two seconds.</summary>
    private async Task ThrowIfCancelledAsync(ExportJob job, CancelCheck check, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - check.LastAt < CancelCheckInterval)
        {
            return;
        }
        check.LastAt = now;
        if (!await jobs.IsRunningAsync(job.Id, cancellationToken))
        {
            throw new ExportCancelledException();
        }
    }

    private sealed class CancelCheck(DateTimeOffset at)
    {
        public DateTimeOffset LastAt { get; set; } = at;
    }

    /// <summary>The job's row says cancelled (or another runner holds it): stop writing.</summary>
    private sealed class ExportCancelledException : Exception;

    private async Task<long> WriteDevicesAsync(ExportJob job, List<FhirDevice> devices, Stream file, CancellationToken cancellationToken)
    {
        using var lines = new NdjsonWriter(file);
        foreach (var device in devices)
        {
            // Only the clinic's devices now: a device it gave away is described by its new clinic's registry entry.
            if (device.Device.ClinicId == job.ClinicId)
            {
                lines.Write(FhirResources.DeviceOf(device.Device, options.Value.PatientIdentifierSystem));
            }
        }
        await lines.FlushAsync(cancellationToken);
        return lines.Count;
    }

    private async Task<long> WriteObservationsAsync(ExportJob job, List<FhirDevice> devices, Stream file, CancellationToken cancellationToken)
    {
        using var lines = new NdjsonWriter(file);
        var patientSystem = options.Value.PatientIdentifierSystem;
        var lastBeat = time.GetUtcNow();
        var check = new CancelCheck(lastBeat);
        for (var i = 0; i < devices.Count; i++)
        {
            var device = devices[i];
            var kind = FhirResources.KindOf(device.Device);
            var store = stores.For(kind);
            var serial = SerialNumber.Parse(device.Device.Serial);
            Task<TelemetryPage> Read(TelemetryCursor? after) => store.QueryAsync(
                new TelemetryQuery(serial, FhirSearch.Earliest, FhirSearch.Latest, options.Value.ExportPageSize, after, false, []) { ReceivedWithin = device.Windows },
                cancellationToken);

            // The next page is read from the database while this one is turned into NDJSON: the two overlap.
            var pending = Read(null);
            while (pending is not null)
            {
                var page = await pending;
                pending = page.Next is { } next ? Read(next) : null;
                lines.WriteAll(page.Items, row => FhirResources.ObservationOf(row, kind, device.PatientAt(row.GatewayReceivedAt), patientSystem));
                await lines.FlushAsync(cancellationToken);
                // A device with months of readings takes longer than StaleAfter: the heartbeat keeps other replicas off it.
                if (time.GetUtcNow() - lastBeat >= HeartbeatInterval)
                {
                    lastBeat = time.GetUtcNow();
                    if (!await jobs.ProgressAsync(job.Id, $"Observation: {lines.Count} resources, device {i + 1} of {devices.Count}", lastBeat, cancellationToken))
                    {
                        throw new ExportCancelledException();
                    }
                }
                await ThrowIfCancelledAsync(job, check, cancellationToken);
            }
            lastBeat = time.GetUtcNow();
            if (!await jobs.ProgressAsync(job.Id, $"Observation: {lines.Count} resources, device {i + 1} of {devices.Count}", lastBeat, cancellationToken))
            {
                throw new ExportCancelledException();
            }
        }
        return lines.Count;
    }

    private async Task<long> WriteReportsAsync(ExportJob job, List<FhirDevice> devices, Stream file, CancellationToken cancellationToken)
    {
        using var lines = new NdjsonWriter(file);
        foreach (var device in devices)
        {
            (DateTimeOffset, string)? after = null;
            while (true)
            {
                var page = await reports.ListAsync(device.Device.Serial, after, options.Value.ExportPageSize, device.Windows, cancellationToken);
                foreach (var record in page)
                {
                    lines.Write(FhirResources.ReportOf(record, device.PatientAt(record.ReceivedAt), options.Value.PatientIdentifierSystem, job.ApiBase));
                }
                if (page.Count < options.Value.ExportPageSize)
                {
                    break;
                }
                after = (page[^1].RecordedAt, page[^1].ReportId);
            }
            await lines.FlushAsync(cancellationToken);
        }
        return lines.Count;
    }

    /// <summary>One resource per line, with the SDK's serializer; buffered, flushed to the file per page.</summary>
    private sealed class NdjsonWriter(Stream file) : IDisposable
    {
        // A page is cut into this many slices, built and serialized on the thread pool at once, then written in order.
        private static readonly int Slices = Math.Max(1, Environment.ProcessorCount);

        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(1 << 16);
        private readonly Utf8JsonWriter _writer = new(Stream.Null);
        private readonly System.Buffers.ArrayBufferWriter<byte>[] _slices = [.. Enumerable.Range(0, Slices).Select(_ => new System.Buffers.ArrayBufferWriter<byte>(1 << 16))];

        public long Count { get; private set; }

        public void Write(FhirResource resource)
        {
            WriteLine(resource, _buffer, _writer);
            Count++;
        }

        /// <summary>Builds and writes the resources of a page, in order, on every core.</summary>
        public void WriteAll<T>(IReadOnlyList<T> items, Func<T, FhirResource> build)
        {
            var size = (items.Count + Slices - 1) / Slices;
            Parallel.For(0, Slices, slice =>
            {
                var output = _slices[slice];
                output.ResetWrittenCount();
                using var writer = new Utf8JsonWriter(Stream.Null);
                for (var i = slice * size; i < Math.Min(items.Count, (slice + 1) * size); i++)
                {
                    WriteLine(build(items[i]), output, writer);
                }
            });
            foreach (var output in _slices)
            {
                output.WrittenSpan.CopyTo(_buffer.GetSpan(output.WrittenCount));
                _buffer.Advance(output.WrittenCount);
            }
            Count += items.Count;
        }

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            await file.WriteAsync(_buffer.WrittenMemory, cancellationToken);
            _buffer.ResetWrittenCount();
        }

        public void Dispose() => _writer.Dispose();

        private static void WriteLine(FhirResource resource, System.Buffers.ArrayBufferWriter<byte> output, Utf8JsonWriter writer)
        {
            writer.Reset(output);
            FhirResults.Write(resource, writer);
            writer.Flush();
            output.GetSpan(1)[0] = (byte)'\n';
            output.Advance(1);
        }
    }
}
