using Edge.Api.Auth;
using Edge.Contracts.Devices;
using Edge.Storage;
using Edge.Storage.Queries;
using Hl7.Fhir.Model;

namespace Edge.Api.Fhir;

internal static partial class FhirEndpoints
{
    /// <summary>Optional metrics: only a component-code search on them filters (a reading without one has no such component).</summary>
    private static readonly HashSet<string> OptionalMetrics = [ReadingMetrics.BatteryPct, ReadingMetrics.HrvRmssdMs];

    private static async Task<IResult> ReadObservationAsync(
        string id, HttpContext context, Caller caller, StoreFactory stores, FhirAccess access, CancellationToken cancellationToken)
    {
        if (FhirAccess.Refuse(context, "Observation") is { } refused)
        {
            return refused;
        }
        if (!ObservationId.TryParse(id, out var serial, out var deviceTime, out var readingId) || await access.HistoryAsync(serial, caller, cancellationToken) is not { } device)
        {
            return FhirResults.NotFound($"No Observation/{id}.");
        }

        // The id carries the device time: the reading is in a one-millisecond window of the store's keyset order (wider
        // than any store's precision), read with the caller's ownership windows like every other read of the history.
        var kind = FhirResources.KindOf(device.Device);
        TelemetryCursor? after = null;
        do
        {
            var page = await stores.For(kind).QueryAsync(new TelemetryQuery(SerialNumber.Parse(device.Device.Serial), deviceTime, deviceTime.AddMilliseconds(1),
                TelemetryQuery.MaxLimit, after, false, []) { ReceivedWithin = device.Windows }, cancellationToken);
            foreach (var row in page.Items)
            {
                if (row.Id == readingId && row.DeviceTime == deviceTime)
                {
                    await access.AuditAsync(caller, "fhir.read", [("Observation", id, device.Device.ClinicId, 1)], null, null, cancellationToken);
                    return FhirResults.Ok(FhirResources.ObservationOf(row, kind, device.PatientAt(row.GatewayReceivedAt), access.PatientSystem));
                }
            }
            after = page.Next;
        }
        while (after is not null);
        return FhirResults.NotFound($"No Observation/{id}.");
    }

    private static async Task<IResult> SearchObservationsAsync(
        HttpContext context, Caller caller, StoreFactory stores, FhirAccess access, CancellationToken cancellationToken)
    {
        if (FhirAccess.Refuse(context, "Observation") is { } refused)
        {
            return refused;
        }
        var search = FhirSearch.Parse(context.Request.Query, "device", "patient:identifier", "subject:identifier", "date", "code", "combo-code", "component-code");
        var (devices, patient) = await DevicesOfSearchAsync(search, caller, access, cancellationToken);
        var code = search.Token("code") ?? search.Token("combo-code");
        var componentCode = search.Token("component-code");
        if (search.Failed)
        {
            return search.ToResult();
        }

        var resources = new List<Resource>();
        var audited = new List<(string, string, string?, int)>();
        string? next = null;
        for (var i = 0; i < devices.Count; i++)
        {
            var device = devices[i];
            var kind = FhirResources.KindOf(device.Device);
            if (!Matches(kind, code, componentCode, out var filters))
            {
                continue;
            }
            TelemetryCursor? after = null;
            if (search.Page is { Position.Length: > 0 } page && page.Serial == device.Device.Serial
                && !TelemetryCursor.TryParse(page.Position, out after, out _))
            {
                return FhirResults.BadParameter("_page", "is not a page token this server returned; follow the Bundle's next link as it is");
            }
            var remaining = search.Count - resources.Count;
            if (remaining == 0)
            {
                next = FhirSearch.EncodePage(device.Device.Serial, "");
                break;
            }
            var rows = await stores.For(kind).QueryAsync(new TelemetryQuery(SerialNumber.Parse(device.Device.Serial), search.From, search.To, remaining, after, false, filters)
            {
                ReceivedWithin = device.Windows,
            }, cancellationToken);
            foreach (var row in rows.Items)
            {
                resources.Add(FhirResources.ObservationOf(row, kind, device.PatientAt(row.GatewayReceivedAt), access.PatientSystem));
            }
            audited.Add(("Observation", device.Device.Serial, device.Device.ClinicId, rows.Items.Count));
            if (rows.Next is { } cursor)
            {
                next = FhirSearch.EncodePage(device.Device.Serial, cursor.Encode());
                break;
            }
        }

        await access.AuditAsync(caller, "fhir.search", audited, AuditedSearch(search), patient, cancellationToken);
        return FhirResults.Ok(access.Searchset(context.Request, "Observation", search, resources, next));
    }

    /// <summary>
    /// The devices a search by <c>device</c> and/or <c>patient:identifier</c> reads, by serial from the page token's:
    /// a device by its history as the REST API allows it, a patient's devices in their current ownership period only.
    /// </summary>
    private static async Task<(List<FhirDevice> Devices, string? Patient)> DevicesOfSearchAsync(FhirSearch search, Caller caller, FhirAccess access, CancellationToken cancellationToken)
    {
        var serial = search.Reference("device", "Device");
        var patient = search.Token("patient:identifier") ?? search.Token("subject:identifier");
        if (patient is { System: { } system } && system != access.PatientSystem)
        {
            search.Fail("patient:identifier", $"patients are identified in system {access.PatientSystem} here");
        }
        if (serial is null && patient is null)
        {
            search.Fail("device", "a search needs device (Device/{serial}) or patient:identifier ([system|]value); a whole clinic is read with $export");
        }
        if (search.Page is { } page && serial is not null && page.Serial != serial)
        {
            search.Fail("_page", "belongs to another search; follow the Bundle's next link as it is");
        }
        if (search.Failed)
        {
            return ([], null);
        }

        if (patient is not null)
        {
            var owned = await access.OfPatientAsync(patient.Code, caller, search.Page?.Serial, inclusive: true, cancellationToken);
            return (serial is null ? owned : [.. owned.Where(d => d.Device.Serial == serial)], patient.Code);
        }
        return (await access.HistoryAsync(serial!, caller, cancellationToken) is { } device ? [device] : [], null);
    }

    /// <summary>
    /// Whether readings of <paramref name="kind"/> can match the codes, and the metric filter a code on an optional metric
    /// needs. <c>code</c> matches the panel or any component (as <c>combo-code</c> does): a client asking for heart rate
    /// by LOINC gets the ECG panels that hold it.
    /// </summary>
    private static bool Matches(DeviceKind kind, TokenValue? code, TokenValue? componentCode, out List<MetricFilter> filters)
    {
        filters = [];
        if (code is not null && !ObservationCodes.PanelMatches(kind, code.System, code.Code))
        {
            if (ObservationCodes.ComponentMatching(kind, code.System, code.Code) is not { } metric)
            {
                return false;
            }
            AddPresence(metric, filters);
        }
        if (componentCode is not null)
        {
            if (ObservationCodes.ComponentMatching(kind, componentCode.System, componentCode.Code) is not { } metric)
            {
                return false;
            }
            AddPresence(metric, filters);
        }
        return true;
    }

    private static void AddPresence(MetricCode metric, List<MetricFilter> filters)
    {
        if (OptionalMetrics.Contains(metric.Metric))
        {
            filters.Add(new MetricFilter(metric.Metric, double.MinValue, null));
        }
    }
}
