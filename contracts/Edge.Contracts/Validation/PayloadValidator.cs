using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;

namespace Edge.Contracts.Validation;

/// <summary>Validates device payloads against the v1 contracts: size, UTF-8, JSON shape, then physical ranges, with field-level reasons.</summary>
/// <remarks>
/// This runs on the ingest hot path (the agent's, and again in the worker), so a valid telemetry message costs one pass
/// of a <see cref="System.Text.Json.Utf8JsonReader"/> (<see cref="TelemetryFastReader"/>) plus a few compares: no LINQ,
/// no Regex, no exceptions, and no allocation beyond the record and its strings. Anything unusual is read by the
/// source-generated serializer, as before; only a refusal pays for explanation.
/// </remarks>
public static class PayloadValidator
{
    private delegate void Rules<in T>(T value, SerialNumber serial, ref ErrorList errors);

    // Builds the record without the serializer when the document is plain, or returns null (TelemetryFastReader).
    private delegate T? FastRead<out T>(ReadOnlySpan<byte> json, int maxDepth);

    /// <summary>
    /// Validates a telemetry payload published on <c>devices/{serial}/telemetry</c>. The topic serial's kind picks the shape
    /// (BiPAP uses the CPAP shape) and the payload's <c>serial</c> must equal it.
    /// </summary>
    public static Validated<Telemetry> ValidateTelemetry(ReadOnlySpan<byte> utf8Json, SerialNumber topicSerial, PayloadLimits? limits = null)
    {
        RequireParsed(topicSerial);
        limits ??= PayloadLimits.Default;
        var types = PayloadTypes.For(limits);
        return topicSerial.Kind switch
        {
            DeviceKind.Cpap or DeviceKind.Bipap => Validate<Telemetry, CpapTelemetry>(utf8Json, topicSerial, limits, types.CpapTelemetry, PayloadRules.CpapTelemetry, TelemetryFastReader.ReadCpap),
            DeviceKind.Oxygen => Validate<Telemetry, OxygenTelemetry>(utf8Json, topicSerial, limits, types.OxygenTelemetry, PayloadRules.OxygenTelemetry, TelemetryFastReader.ReadOxygen),
            DeviceKind.Ecg => Validate<Telemetry, EcgTelemetry>(utf8Json, topicSerial, limits, types.EcgTelemetry, PayloadRules.EcgTelemetry, TelemetryFastReader.ReadEcg),
            _ => throw new ArgumentOutOfRangeException(nameof(topicSerial), topicSerial.Kind, "unknown device kind"),
        };
    }

    /// <summary>Validates a desired config for <paramref name="serial"/> (BiPAP uses the CPAP shape); the payload's <c>serial</c> must equal it.</summary>
    public static Validated<DeviceConfigMessage> ValidateConfig(ReadOnlySpan<byte> utf8Json, SerialNumber serial, PayloadLimits? limits = null)
    {
        RequireParsed(serial);
        limits ??= PayloadLimits.Default;
        var types = PayloadTypes.For(limits);
        return serial.Kind switch
        {
            DeviceKind.Cpap or DeviceKind.Bipap => Validate<DeviceConfigMessage, CpapConfigMessage>(utf8Json, serial, limits, types.CpapConfig, PayloadRules.CpapConfig),
            DeviceKind.Oxygen => Validate<DeviceConfigMessage, OxygenConfigMessage>(utf8Json, serial, limits, types.OxygenConfig, PayloadRules.OxygenConfig),
            DeviceKind.Ecg => Validate<DeviceConfigMessage, EcgConfigMessage>(utf8Json, serial, limits, types.EcgConfig, PayloadRules.EcgConfig),
            _ => throw new ArgumentOutOfRangeException(nameof(serial), serial.Kind, "unknown device kind"),
        };
    }

    /// <summary>Validates an ECG report published on <c>devices/{serial}/report</c>; any other kind of serial is refused on <c>serial</c>.</summary>
    public static Validated<EcgReportMessage> ValidateReport(ReadOnlySpan<byte> utf8Json, SerialNumber serial, PayloadLimits? limits = null)
    {
        RequireParsed(serial);
        if (serial.Kind != DeviceKind.Ecg)
        {
            return new Validated<EcgReportMessage>(null,
                [new FieldError("serial", $"reports are accepted from ECG recorders only; '{serial.Value}' is a {DeviceKinds.Name(serial.Kind)} device")]);
        }
        limits ??= PayloadLimits.Default;
        return Validate<EcgReportMessage, EcgReportMessage>(utf8Json, serial, limits, PayloadTypes.For(limits).EcgReport, PayloadRules.EcgReport);
    }

    private static Validated<TBase> Validate<TBase, T>(
        ReadOnlySpan<byte> json, SerialNumber serial, PayloadLimits limits, JsonTypeInfo<T> typeInfo, Rules<T> rules, FastRead<T>? fast = null)
        where T : class, TBase
    {
        var errors = new ErrorList();
        var value = Read(json, limits, typeInfo, fast, ref errors);
        if (value is not null)
        {
            rules(value, serial, ref errors);
        }
        return new Validated<TBase>(value, errors.ToList());
    }

    private static T? Read<T>(ReadOnlySpan<byte> json, PayloadLimits limits, JsonTypeInfo<T> typeInfo, FastRead<T>? fast, ref ErrorList errors)
        where T : class
    {
        // Order matters: the size check must come before anything that reads the bytes.
        if (json.Length > limits.MaxBytes)
        {
            errors.Add(FieldError.Document, $"payload is {json.Length} bytes; the limit is {limits.MaxBytes} bytes");
            return null;
        }
        if (json.IsEmpty)
        {
            errors.Add(FieldError.Document, "payload is empty; expected a JSON object");
            return null;
        }
        if (!Utf8.IsValid(json))
        {
            errors.Add(FieldError.Document, $"payload is not valid UTF-8 (first bad byte at offset {ShapeDiagnosis.FirstInvalidUtf8(json)})");
            return null;
        }
        if (json.StartsWith("\uFEFF"u8))
        {
            // The serializer would skip it silently, but other readers of the stored bytes may not.
            errors.Add(FieldError.Document, "payload starts with a UTF-8 byte-order mark; send the JSON without it");
            return null;
        }

        // The record the serializer would build, at a fraction of its cost, for the plain documents devices send.
        if (fast?.Invoke(json, limits.MaxDepth) is { } plain)
        {
            return plain;
        }

        try
        {
            var value = JsonSerializer.Deserialize(json, typeInfo);
            if (value is null)
            {
                errors.Add(FieldError.Document, "expected a JSON object (was null)");
            }
            return value;
        }
        catch (JsonException ex)
        {
            ShapeDiagnosis.Explain(json, limits, typeInfo, ex, ref errors);
            return null;
        }
    }

    private static void RequireParsed(SerialNumber serial)
    {
        if (serial.Value is null)
        {
            throw new ArgumentException("the serial was never parsed (default SerialNumber); use SerialNumber.TryParse on the topic's serial", nameof(serial));
        }
    }
}
