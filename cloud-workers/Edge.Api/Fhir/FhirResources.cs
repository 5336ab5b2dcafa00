using System.Globalization;
using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Storage.Queries;
using Edge.Storage.Reports;
using Hl7.Fhir.Model;
using RegistryDevice = Edge.Api.Registry.Device;

namespace Edge.Api.Fhir;

/// <summary>
/// Builds the FHIR resources from what the stores hold: a registry entry as a <c>Device</c>, a reading as one
/// <c>Observation</c> panel whose components are its metrics (<see cref="ObservationCodes"/>), an ECG report as a
/// <c>DiagnosticReport</c> whose PDF is a link to the REST download.
/// </summary>
internal static class FhirResources
{
    /// <summary>Identifier system of device serials.</summary>
    public const string SerialSystem = "https://clinic-edge.example/fhir/sid/serial";

    /// <summary>Identifier system of clinics (a Device's owner organization).</summary>
    public const string ClinicSystem = "https://clinic-edge.example/fhir/sid/clinic";

    /// <summary>Identifier system of ECG report ids as recorders name them.</summary>
    public const string ReportSystem = "https://clinic-edge.example/fhir/sid/ecg-report";

    /// <summary>Code system of device kinds (Device.type).</summary>
    public const string DeviceKindSystem = "https://clinic-edge.example/fhir/CodeSystem/device-kind";

    private const string InterpretationSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
    private const string CategorySystem = "http://terminology.hl7.org/CodeSystem/observation-category";
    private const string DiagnosticServiceSystem = "http://terminology.hl7.org/CodeSystem/v2-0074";

    public static Hl7.Fhir.Model.Device DeviceOf(RegistryDevice device, string patientSystem)
    {
        var kind = KindOf(device);
        var resource = new Hl7.Fhir.Model.Device
        {
            Id = device.Serial,
            Identifier = [new Identifier(SerialSystem, device.Serial)],
            Status = device.Status == "active" ? Hl7.Fhir.Model.Device.FHIRDeviceStatus.Active : Hl7.Fhir.Model.Device.FHIRDeviceStatus.Inactive,
            SerialNumber = device.Serial,
            DeviceName = [new Hl7.Fhir.Model.Device.DeviceNameComponent { Name = $"{DeviceKinds.Name(kind).ToUpperInvariant()} {device.Serial}", Type = DeviceNameType.UserFriendlyName }],
            Type = new CodeableConcept(DeviceKindSystem, DeviceKinds.Name(kind), KindDisplay(kind)),
            Owner = new ResourceReference { Type = "Organization", Identifier = new Identifier(ClinicSystem, device.ClinicId) },
        };
        if (device.Firmware is not null)
        {
            resource.Version = [new Hl7.Fhir.Model.Device.VersionComponent { Type = new CodeableConcept { Text = "firmware" }, Value = device.Firmware }];
        }
        if (device.Owner is not null)
        {
            resource.Patient = PatientReference(device.Owner, patientSystem);
        }
        return resource;
    }

    /// <summary>
    /// A reading as one Observation. <paramref name="patient"/> is the owner's identifier when the reading was received in
    /// the device's current ownership period (the registry keeps no history of owners, so older readings name none).
    /// </summary>
    public static Observation ObservationOf(TelemetryRow row, DeviceKind kind, string? patient, string patientSystem)
    {
        var panel = ObservationCodes.Panel(kind);
        var code = new CodeableConcept(ObservationCodes.EdgeSystem, panel.Code, panel.Display, panel.Display);
        if (panel.Loinc is not null)
        {
            code.Coding.Insert(0, new Coding(ObservationCodes.LoincSystem, panel.Loinc, panel.LoincDisplay));
        }
        var observation = new Observation
        {
            Id = ObservationId.Format(row.Serial, row.DeviceTime, row.Id),
            Meta = new Meta { LastUpdated = row.StoredAt },
            Identifier = [new Identifier("urn:ietf:rfc:3986", "urn:uuid:" + row.Id.ToString("D"))],
            Status = ObservationStatus.Final,
            Category = [new CodeableConcept(CategorySystem, kind == DeviceKind.Ecg ? "procedure" : "therapy")],
            Code = code,
            Effective = new FhirDateTime(row.DeviceTime.ToUniversalTime()),
            Issued = row.StoredAt,
            Device = new ResourceReference("Device/" + row.Serial),
        };
        if (patient is not null)
        {
            observation.Subject = PatientReference(patient, patientSystem);
        }

        using var payload = JsonDocument.Parse(row.PayloadJson);
        var root = payload.RootElement;
        root.TryGetProperty("metrics", out var metrics);
        foreach (var metric in ObservationCodes.For(kind))
        {
            var source = metric.Metric == "lead" ? root : metrics;
            if (source.ValueKind != JsonValueKind.Object || !source.TryGetProperty(metric.Metric, out var value))
            {
                continue;
            }
            var component = new Observation.ComponentComponent { Code = CodeOf(metric) };
            if (metric.Ucum is not null && value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number))
            {
                component.Value = new Quantity { Value = number, Unit = metric.Ucum, System = ObservationCodes.UcumSystem, Code = metric.Ucum };
            }
            else if (metric.Ucum is null && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
            {
                component.Value = new FhirString(text);
            }
            else
            {
                continue;
            }
            observation.Component.Add(component);
        }

        if (Interpretation(kind, row.Urgent, metrics) is { } finding)
        {
            observation.Interpretation = [new CodeableConcept(InterpretationSystem, "A", "Abnormal", finding)];
        }
        return observation;
    }

    /// <summary>An ECG report: its summary as the conclusion, its PDF as a link to <c>GET /v1/devices/{serial}/reports/{id}/pdf</c>.</summary>
    public static DiagnosticReport ReportOf(ReportRecord record, string? patient, string patientSystem, string apiBase)
    {
        var report = new DiagnosticReport
        {
            Id = ReportIds.ToFhir(record.ReportId),
            Meta = new Meta { LastUpdated = record.RecordedAt },
            Identifier = [new Identifier(ReportSystem, record.ReportId)],
            Status = DiagnosticReport.DiagnosticReportStatus.Final,
            Category = [new CodeableConcept(DiagnosticServiceSystem, "EC", "Electrocardiac")],
            Code = new CodeableConcept(ObservationCodes.LoincSystem, "11524-6", "EKG study", "ECG report"),
            Subject = patient is not null ? PatientReference(patient, patientSystem) : new ResourceReference("Device/" + record.Serial),
            Issued = record.RecordedAt,
            Conclusion = Conclusion(record.ReportJson),
            PresentedForm =
            [
                new Attachment
                {
                    ContentType = "application/pdf",
                    Url = $"{apiBase}/v1/devices/{Uri.EscapeDataString(record.Serial)}/reports/{Uri.EscapeDataString(record.ReportId)}/pdf",
                    // R4's size is an unsignedInt (R5 made it integer64, which the SDK's shared Size property would write as a string).
                    SizeElement = record.SizeBytes <= int.MaxValue ? new UnsignedInt((int)record.SizeBytes) : null,
                    Title = $"ECG report {record.ReportId} of {record.Serial}",
                    Creation = new FhirDateTime(record.ReceivedAt.ToUniversalTime()).Value,
                },
            ],
        };
        return report;
    }

    public static ResourceReference PatientReference(string owner, string patientSystem) =>
        new() { Type = "Patient", Identifier = new Identifier(patientSystem, owner) };

    public static DeviceKind KindOf(RegistryDevice device) =>
        DeviceKinds.TryParseName(device.Kind, out var kind) ? kind : throw new InvalidOperationException($"registry kind '{device.Kind}' of {device.Serial}");

    private static string KindDisplay(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap => "CPAP machine",
        DeviceKind.Bipap => "BiPAP machine",
        DeviceKind.Oxygen => "Oxygen concentrator",
        DeviceKind.Ecg => "ECG recorder",
        _ => kind.ToString(),
    };

    private static CodeableConcept CodeOf(MetricCode metric)
    {
        var concept = new CodeableConcept { Text = metric.Display };
        if (metric.Loinc is not null)
        {
            concept.Coding.Add(new Coding(ObservationCodes.LoincSystem, metric.Loinc, metric.Display));
        }
        if (metric.Mdc is { } mdc)
        {
            concept.Coding.Add(new Coding(ObservationCodes.MdcSystem, mdc.Code, mdc.RefId));
        }
        concept.Coding.Add(new Coding(ObservationCodes.EdgeSystem, metric.Metric, metric.Display));
        return concept;
    }

    /// <summary>Why the reading is abnormal, or null: an oxygen alarm, an ECG rhythm finding, or the gateway's urgent lane.</summary>
    private static string? Interpretation(DeviceKind kind, bool urgent, JsonElement metrics)
    {
        if (metrics.ValueKind == JsonValueKind.Object)
        {
            if (kind == DeviceKind.Oxygen && metrics.TryGetProperty("alarm_code", out var alarm) && alarm.ValueKind == JsonValueKind.String)
            {
                return $"device alarm {alarm.GetString()}";
            }
            if (kind == DeviceKind.Ecg && metrics.TryGetProperty("arrhythmia", out var rhythm) && rhythm.ValueKind == JsonValueKind.String
                && !string.Equals(rhythm.GetString(), "none", StringComparison.OrdinalIgnoreCase))
            {
                return $"arrhythmia: {rhythm.GetString()}";
            }
        }
        return urgent ? "urgent: the gateway classified the reading as urgent (a threshold crossed)" : null;
    }

    private static string? Conclusion(string reportJson)
    {
        using var document = JsonDocument.Parse(reportJson);
        // The recorder's report document (docs/schemas/v1/ecg-report.schema.json) holds the summary under "report".
        var root = document.RootElement.TryGetProperty("report", out var inner) && inner.ValueKind == JsonValueKind.Object ? inner : document.RootElement;
        if (!root.TryGetProperty("summary", out var summary) || summary.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var parts = new List<string>();
        if (summary.TryGetProperty("avg_hr", out var avg) && summary.TryGetProperty("min_hr", out var min) && summary.TryGetProperty("max_hr", out var max))
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"Heart rate average {avg.GetRawText()}/min (min {min.GetRawText()}, max {max.GetRawText()})"));
        }
        if (summary.TryGetProperty("alerts", out var alerts) && alerts.ValueKind == JsonValueKind.Array && alerts.GetArrayLength() > 0)
        {
            parts.Add("alerts: " + string.Join("; ", alerts.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString())));
        }
        return parts.Count == 0 ? null : string.Join(". ", parts) + ".";
    }
}
