using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Contracts.Validation;

namespace Edge.Contracts.Tests;

/// <summary>
/// The validator reads plain telemetry without the serializer (TelemetryFastReader); it must read exactly what the
/// source-generated serializer reads: the same record for every document the serializer accepts, and a refusal for
/// every document it refuses. Each case compares the validator's record with the serializer's on the same bytes.
/// </summary>
public sealed class TelemetryFastReaderTests
{
    private static readonly SerialNumber Cpap = SerialNumber.Parse("CPAP-2301-9912");
    private static readonly SerialNumber Oxygen = SerialNumber.Parse("OXY-8844-5521");
    private static readonly SerialNumber Ecg = SerialNumber.Parse("ECG-7711-0045");

    public static TheoryData<string> TelemetrySamples()
    {
        var data = new TheoryData<string>();
        foreach (var sample in SampleCatalog.All.Where(s => s.Kind is PayloadKind.CpapTelemetry or PayloadKind.OxygenTelemetry or PayloadKind.EcgTelemetry))
        {
            data.Add(sample.File);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TelemetrySamples))]
    public void Every_telemetry_sample_reads_as_the_serializer_reads_it(string file)
    {
        var sample = SampleCatalog.Get(file);
        var json = File.ReadAllBytes(sample.FullPath);
        var serial = sample.Kind switch
        {
            PayloadKind.CpapTelemetry => file.StartsWith("bipap", StringComparison.Ordinal) ? SerialNumber.Parse("BIPAP-1000-0001") : Cpap,
            PayloadKind.OxygenTelemetry => Oxygen,
            _ => Ecg,
        };

        AssertReadsAsSerializer(json, serial, PayloadLimits.Default);
        Assert.Equal(sample.IsValid, PayloadValidator.ValidateTelemetry(json, serial).IsValid);
    }

    [Theory]
    [InlineData(Seeds.CpapTelemetry, "CPAP-2301-9912")]
    [InlineData(Seeds.OxygenTelemetry, "OXY-8844-5521")]
    [InlineData(Seeds.EcgTelemetry, "ECG-7711-0045")]
    public void The_seed_payloads_are_read_to_the_serializers_records(string seed, string serial)
    {
        var json = Encoding.UTF8.GetBytes(seed);
        var parsed = SerialNumber.Parse(serial);

        var result = PayloadValidator.ValidateTelemetry(json, parsed);

        Assert.True(result.IsValid, result.ErrorSummary());
        Assert.Equal(Deserialize(json, parsed, PayloadLimits.Default), result.Value);
    }

    public static TheoryData<string, string> Edits() => new()
    {
        // What the serializer refuses: each must be refused, and with the serializer's own explanation.
        { "duplicate property", Seeds.CpapTelemetry.Replace("\"firmware\"", "\"serial\":\"CPAP-2301-9912\",\"firmware\"", StringComparison.Ordinal) },
        { "duplicate nested property", Seeds.CpapTelemetry.Replace("\"leak_rate_lpm\"", "\"respiratory_rate\":1,\"leak_rate_lpm\"", StringComparison.Ordinal) },
        { "null where none is allowed", Seeds.EcgTelemetry.Replace("\"II\"", "null", StringComparison.Ordinal) },
        { "number as a string", Seeds.CpapTelemetry.Replace("12.4", "\"12.4\"", StringComparison.Ordinal) },
        { "string as a number", Seeds.CpapTelemetry.Replace("\"v4.2.1\"", "421", StringComparison.Ordinal) },
        { "number too large for a double", Seeds.CpapTelemetry.Replace("12.4", "1e400", StringComparison.Ordinal) },
        { "trailing comma", Seeds.CpapTelemetry.Replace("}}", "},}", StringComparison.Ordinal) },
        { "a comment", Seeds.CpapTelemetry.Replace("{\"serial\"", "{/* c */\"serial\"", StringComparison.Ordinal) },
        { "a second document after the object", Seeds.CpapTelemetry + "{}" },
        { "missing required metric", Seeds.OxygenTelemetry.Replace("\"flow_rate_lpm\":2.5,", "", StringComparison.Ordinal) },
        { "missing metrics", """{"serial":"CPAP-2301-9912","timestamp":"2025-11-24T10:15:32Z"}""" },
        { "timestamp without offset", Seeds.CpapTelemetry.Replace("10:15:32Z", "10:15:32", StringComparison.Ordinal) },
        { "metrics is an array", Seeds.CpapTelemetry.Replace("\"metrics\":{\"pressure_cm_h2o\":12.4,\"respiratory_rate\":18,\"leak_rate_lpm\":24.1,\"patient_mode\":\"AutoCPAP\"}", "\"metrics\":[1]", StringComparison.Ordinal) },
        { "root is an array", "[" + Seeds.CpapTelemetry + "]" },
        { "lone surrogate escape in a value", Seeds.CpapTelemetry.Replace("v4.2.1", "\\ud800", StringComparison.Ordinal) },
        { "lone surrogate escape in a name", Seeds.CpapTelemetry.Replace("\"firmware\"", "\"\\ud800\"", StringComparison.Ordinal) },
        { "property names differ in case", Seeds.CpapTelemetry.Replace("\"serial\"", "\"Serial\"", StringComparison.Ordinal) },

        // What the serializer accepts: each must give the same record.
        { "unknown property", Seeds.CpapTelemetry.Replace("\"firmware\"", "\"battery\":{\"a\":[1,2]},\"firmware\"", StringComparison.Ordinal) },
        { "escaped property name", Seeds.CpapTelemetry.Replace("\"serial\"", "\"ser\\u0069al\"", StringComparison.Ordinal) },
        { "escaped value", Seeds.CpapTelemetry.Replace("AutoCPAP", "Auto\\u0043PAP \\\"x\\\"", StringComparison.Ordinal) },
        { "properties in another order", """{"metrics":{"leak_rate_lpm":24.1,"respiratory_rate":18,"pressure_cm_h2o":12.4},"timestamp":"2025-11-24T10:15:32+01:00","serial":"CPAP-2301-9912"}""" },
        { "explicit nulls where allowed", Seeds.CpapTelemetry.Replace("\"AutoCPAP\"", "null", StringComparison.Ordinal).Replace("\"v4.2.1\"", "null", StringComparison.Ordinal) },
        { "whitespace around everything", " \n{ \"serial\" : \"CPAP-2301-9912\" ,\t\"timestamp\":\"2025-11-24T10:15:32.123Z\", \"metrics\" : { \"pressure_cm_h2o\" : -0.0 , \"respiratory_rate\":1E1,\"leak_rate_lpm\":0.5e-3 } }\r\n" },
        { "optional numbers null", Seeds.OxygenTelemetry.Replace("82", "null", StringComparison.Ordinal) },
        { "ecg with hrv", Seeds.EcgTelemetry.Replace("\"signal_quality\"", "\"hrv_rmssd_ms\":41.5,\"signal_quality\"", StringComparison.Ordinal) },
        { "ecg with hrv null", Seeds.EcgTelemetry.Replace("\"signal_quality\"", "\"hrv_rmssd_ms\":null,\"signal_quality\"", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void An_edited_payload_reads_as_the_serializer_reads_it(string edit, string payload)
    {
        Assert.False(string.IsNullOrEmpty(edit));
        var json = Encoding.UTF8.GetBytes(payload);
        var serial = payload.Contains("OXY-", StringComparison.Ordinal) ? Oxygen : payload.Contains("ECG-", StringComparison.Ordinal) ? Ecg : Cpap;

        AssertReadsAsSerializer(json, serial, PayloadLimits.Default);
    }

    [Fact]
    public void A_nesting_limit_below_the_payloads_depth_refuses_it_as_before()
    {
        var json = Encoding.UTF8.GetBytes(Seeds.CpapTelemetry);
        var limits = new PayloadLimits(MaxDepth: 1);

        var result = PayloadValidator.ValidateTelemetry(json, Cpap, limits);

        Assert.Null(result.Value);
        Assert.Contains(result.Errors, e => e.Field == FieldError.Document && e.Reason.Contains("nested 2 levels deep; the limit is 1", StringComparison.Ordinal));
        AssertReadsAsSerializer(json, Cpap, limits);
    }

    [Fact]
    public void Thousands_of_mutated_seed_payloads_read_as_the_serializer_reads_them()
    {
        // A fixed seed: the same mutations on every run, so a failure names an input that can be replayed.
        var random = new Random(25);
        var seeds = new (string Json, SerialNumber Serial)[] { (Seeds.CpapTelemetry, Cpap), (Seeds.OxygenTelemetry, Oxygen), (Seeds.EcgTelemetry, Ecg) };
        var alphabet = "{}[]\":,0123456789.-+eE nulltruefalse\\u\"Zz"u8.ToArray();
        var accepted = 0;
        for (var i = 0; i < 6000; i++)
        {
            var (seed, serial) = seeds[i % seeds.Length];
            var json = Encoding.UTF8.GetBytes(seed).ToList();
            for (var edits = random.Next(1, 4); edits > 0 && json.Count > 0; edits--)
            {
                var at = random.Next(json.Count);
                switch (random.Next(3))
                {
                    case 0:
                        json.RemoveAt(at);
                        break;
                    case 1:
                        json.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                    default:
                        json[at] = alphabet[random.Next(alphabet.Length)];
                        break;
                }
            }

            var bytes = json.ToArray();
            AssertReadsAsSerializer(bytes, serial, PayloadLimits.Default);
            accepted += Deserialize(bytes, serial, PayloadLimits.Default) is null ? 0 : 1;
        }

        // Many mutations land in values (a digit for a digit): both outcomes were exercised.
        Assert.InRange(accepted, 100, 5900);
    }

    private static void AssertReadsAsSerializer(byte[] json, SerialNumber serial, PayloadLimits limits)
    {
        var result = PayloadValidator.ValidateTelemetry(json, serial, limits);
        var expected = Deserialize(json, serial, limits);
        var text = Encoding.UTF8.GetString(json);

        Assert.True(Equals(expected, result.Value), $"validator read {result.Value?.ToString() ?? "nothing"} where the serializer read {expected?.ToString() ?? "nothing"}: {text}");
        if (expected is null)
        {
            Assert.False(result.IsValid, text);
            Assert.NotEmpty(result.Errors);
        }
    }

    // The serializer alone, after the validator's byte checks (size, UTF-8, byte-order mark), as the validator ran it before.
    private static Telemetry? Deserialize(byte[] json, SerialNumber serial, PayloadLimits limits)
    {
        if (json.Length == 0 || json.Length > limits.MaxBytes || !Utf8.IsValid(json) || json.AsSpan().StartsWith("\uFEFF"u8))
        {
            return null;
        }

        var context = limits.MaxDepth == PayloadLimits.DefaultMaxDepth
            ? ContractsJsonContext.Default
            : new ContractsJsonContext(new JsonSerializerOptions(ContractsJsonContext.Default.Options) { MaxDepth = limits.MaxDepth });
        JsonTypeInfo type = serial.Kind switch
        {
            DeviceKind.Cpap or DeviceKind.Bipap => context.CpapTelemetry,
            DeviceKind.Oxygen => context.OxygenTelemetry,
            _ => context.EcgTelemetry,
        };
        try
        {
            return (Telemetry?)JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
