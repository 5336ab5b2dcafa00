using System.Text;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Contracts.Validation;

namespace Edge.Contracts.Tests;

/// <summary>What the validator must do that a JSON Schema cannot say: topic serials, size, depth, bytes, syntax, cross-field rules.</summary>
public sealed class PayloadValidatorTests
{
    private static readonly SerialNumber Cpap = SerialNumber.Parse("CPAP-2301-9912");
    private static readonly SerialNumber Bipap = SerialNumber.Parse("BIPAP-1000-0001");
    private static readonly SerialNumber Oxygen = SerialNumber.Parse("OXY-8844-5521");
    private static readonly SerialNumber Ecg = SerialNumber.Parse("ECG-7711-0045");

    [Fact]
    public void Payload_serial_that_differs_from_the_topic_serial_is_refused_on_serial()
    {
        var result = Telemetry(Seeds.CpapTelemetry, SerialNumber.Parse("CPAP-2301-0000"));

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal("serial", error.Field);
        Assert.Equal("must match the topic's serial 'CPAP-2301-0000' (was 'CPAP-2301-9912')", error.Reason);
    }

    [Fact]
    public void Config_and_report_serials_must_match_too()
    {
        Assert.Equal("serial", Assert.Single(PayloadValidator.ValidateConfig(Bytes(Seeds.CpapConfig), SerialNumber.Parse("CPAP-9999-9999")).Errors).Field);
        Assert.Equal("serial", Assert.Single(PayloadValidator.ValidateReport(Bytes(Seeds.EcgReport), SerialNumber.Parse("ECG-0000-0001")).Errors).Field);
    }

    [Fact]
    public void Topic_serial_kind_picks_the_shape_so_oxygen_json_on_a_cpap_topic_is_refused()
    {
        var result = Telemetry(Seeds.OxygenTelemetry, Cpap);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Field == "metrics.pressure_cm_h2o" && e.Reason == "required field is missing");
    }

    [Fact]
    public void BiPAP_topic_uses_the_cpap_shapes()
    {
        var telemetry = Telemetry(Seeds.CpapTelemetry.Replace("CPAP-2301-9912", "BIPAP-1000-0001", StringComparison.Ordinal), Bipap);
        var config = PayloadValidator.ValidateConfig(Bytes(Seeds.CpapConfig.Replace("CPAP-2301-9912", "BIPAP-1000-0001", StringComparison.Ordinal)), Bipap);

        Assert.True(telemetry.IsValid, telemetry.ErrorSummary());
        Assert.IsType<CpapTelemetry>(telemetry.Value);
        Assert.IsType<CpapConfigMessage>(config.Value);
    }

    [Fact]
    public void One_mebibyte_payload_is_refused_on_the_document_by_size_before_it_is_read()
    {
        // Neither JSON nor UTF-8: only the size check can have produced a single size error.
        var huge = new byte[1024 * 1024];
        Array.Fill(huge, (byte)0xFF);

        var result = PayloadValidator.ValidateTelemetry(huge, Cpap);

        var error = Assert.Single(result.Errors);
        Assert.Equal("$", error.Field);
        Assert.Equal("payload is 1048576 bytes; the limit is 65536 bytes", error.Reason);
        Assert.Null(result.Value);
    }

    [Fact]
    public void Payload_of_exactly_the_size_limit_is_read()
    {
        var seed = Bytes(Seeds.CpapTelemetry);

        Assert.True(PayloadValidator.ValidateTelemetry(seed, Cpap, new PayloadLimits(MaxBytes: seed.Length)).IsValid);
        Assert.Equal("$", Assert.Single(PayloadValidator.ValidateTelemetry(seed, Cpap, new PayloadLimits(MaxBytes: seed.Length - 1)).Errors).Field);
    }

    [Fact]
    public void Two_hundred_nested_arrays_are_refused_on_the_document_with_the_depth_and_limit()
    {
        var json = WithUnknownField(Seeds.CpapTelemetry, new string('[', 200) + new string(']', 200));

        var result = Telemetry(json, Cpap);

        var error = Assert.Single(result.Errors);
        Assert.Equal("$", error.Field);
        Assert.Equal("JSON is nested 201 levels deep; the limit is 16", error.Reason);
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_accepted_and_one_level_more_is_refused()
    {
        // The root object is level 1, so 15 arrays inside it reach level 16.
        var atLimit = WithUnknownField(Seeds.CpapTelemetry, new string('[', 15) + new string(']', 15));
        var overLimit = WithUnknownField(Seeds.CpapTelemetry, new string('[', 16) + new string(']', 16));

        Assert.True(Telemetry(atLimit, Cpap).IsValid);
        Assert.Equal("JSON is nested 17 levels deep; the limit is 16", Assert.Single(Telemetry(overLimit, Cpap).Errors).Reason);
    }

    [Fact]
    public void A_smaller_depth_limit_is_honoured()
    {
        var json = Bytes(WithUnknownField(Seeds.CpapTelemetry, "[[1]]"));

        Assert.True(PayloadValidator.ValidateTelemetry(json, Cpap, new PayloadLimits(MaxDepth: 3)).IsValid);
        var refused = PayloadValidator.ValidateTelemetry(json, Cpap, new PayloadLimits(MaxDepth: 2));
        Assert.Equal("JSON is nested 3 levels deep; the limit is 2", Assert.Single(refused.Errors).Reason);
    }

    [Fact]
    public void Invalid_utf8_bytes_are_refused_on_the_document_with_their_offset()
    {
        var bytes = Bytes(Seeds.CpapTelemetry);
        var at = Seeds.CpapTelemetry.IndexOf("AutoCPAP", StringComparison.Ordinal);
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;

        var error = Assert.Single(PayloadValidator.ValidateTelemetry(bytes, Cpap).Errors);

        Assert.Equal("$", error.Field);
        Assert.Equal($"payload is not valid UTF-8 (first bad byte at offset {at})", error.Reason);
    }

    [Theory]
    [InlineData("""{"serial":"CPAP-2301-9912","timestamp":"2025-11-24T10:15:32Z","metrics":{""", "line 1")]
    [InlineData("""{"serial":"CPAP-2301-9912",}""", "line 1")]
    [InlineData("""{'serial':'CPAP-2301-9912'}""", "line 1")]
    [InlineData("{\n  \"serial\": \"CPAP-2301-9912\" // the device\n}", "line 2")]
    [InlineData("""{"serial":"CPAP-2301-9912"} {"serial":"CPAP-2301-9912"}""", "after a single JSON value")]
    [InlineData("""{"serial":"CPAP-2301-9912""", "line 1")]
    [InlineData("   ", "does not contain any JSON tokens")]
    [InlineData("serial=CPAP-2301-9912", "line 1")]
    public void Malformed_json_is_refused_on_the_document_with_where_it_broke(string json, string reasonPart)
    {
        var error = Assert.Single(Telemetry(json, Cpap).Errors);

        Assert.Equal("$", error.Field);
        Assert.StartsWith("malformed JSON at line", error.Reason, StringComparison.Ordinal);
        Assert.Contains(reasonPart, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_payload_is_refused_on_the_document()
    {
        Assert.Equal(new FieldError("$", "payload is empty; expected a JSON object"), Assert.Single(PayloadValidator.ValidateTelemetry([], Cpap).Errors));
    }

    [Theory]
    [InlineData("null", "expected a JSON object (was null)")]
    [InlineData("[]", "expected a JSON object (was an array)")]
    [InlineData("\"CPAP-2301-9912\"", "expected a JSON object (was a string)")]
    [InlineData("42", "expected a JSON object (was a number)")]
    public void A_document_that_is_not_an_object_is_refused_on_the_document(string json, string reason)
    {
        Assert.Equal(new FieldError("$", reason), Assert.Single(Telemetry(json, Cpap).Errors));
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    public void NaN_and_Infinity_literals_are_refused_as_malformed_json(string literal)
    {
        var json = Seeds.CpapTelemetry.Replace("12.4", literal, StringComparison.Ordinal);

        var error = Assert.Single(Telemetry(json, Cpap).Errors);

        Assert.Equal("$", error.Field);
        Assert.StartsWith("malformed JSON", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("\"-Infinity\"")]
    [InlineData("\"12.4\"")]
    public void Numbers_written_as_strings_are_refused_on_that_field(string value)
    {
        var json = Seeds.CpapTelemetry.Replace("12.4", value, StringComparison.Ordinal);

        Assert.Equal(new FieldError("metrics.pressure_cm_h2o", "expected a number (was a string)"), Assert.Single(Telemetry(json, Cpap).Errors));
    }

    [Fact]
    public void A_number_too_large_for_a_double_is_refused_as_not_finite()
    {
        var json = Seeds.CpapTelemetry.Replace("12.4", "1e400", StringComparison.Ordinal);

        Assert.Equal(new FieldError("metrics.pressure_cm_h2o", "must be a finite number"), Assert.Single(Telemetry(json, Cpap).Errors));
    }

    [Fact]
    public void Timestamp_without_an_offset_is_refused_on_timestamp_saying_so()
    {
        var json = Seeds.CpapTelemetry.Replace("10:15:32Z", "10:15:32", StringComparison.Ordinal);

        var error = Assert.Single(Telemetry(json, Cpap).Errors);

        Assert.Equal("timestamp", error.Field);
        Assert.Equal("must include a UTC offset, 'Z' or ±hh:mm, as in 2025-11-24T10:15:32Z (was '2025-11-24T10:15:32')", error.Reason);
    }

    [Theory]
    [InlineData("2025-11-24T10:15:32Z", "2025-11-24T10:15:32+00:00")]
    [InlineData("2025-11-24t10:15:32z", "2025-11-24T10:15:32+00:00")]
    [InlineData("2025-11-24T10:15:32-00:00", "2025-11-24T10:15:32+00:00")]
    [InlineData("2025-11-24T15:45:32+05:30", "2025-11-24T15:45:32+05:30")]
    [InlineData("2025-11-24T10:15:32.5Z", "2025-11-24T10:15:32.5000000+00:00")]
    [InlineData("2025-11-24T10:15:32.123456789Z", "2025-11-24T10:15:32.1234567+00:00")]
    [InlineData("2025-11-24T10:15:32+14:00", "2025-11-24T10:15:32+14:00")]
    [InlineData("2024-02-29T23:59:59-12:00", "2024-02-29T23:59:59-12:00")]
    [InlineData("2025-11-24T10:15:32\\u002B01:00", "2025-11-24T10:15:32+01:00")]
    public void RFC_3339_timestamps_with_an_offset_are_read_exactly(string written, string expected)
    {
        var json = Seeds.CpapTelemetry.Replace("2025-11-24T10:15:32Z", written, StringComparison.Ordinal);

        var result = Telemetry(json, Cpap);

        Assert.True(result.IsValid, result.ErrorSummary());
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), result.Value!.Timestamp);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture).Offset, result.Value.Timestamp.Offset);
    }

    [Theory]
    [InlineData("2025-11-24 10:15:32Z")]
    [InlineData("2025-11-24T10:15Z")]
    [InlineData("2025-11-24T10:15:32+0100")]
    [InlineData("2025-11-24T10:15:32+01")]
    [InlineData("20251124T101532Z")]
    [InlineData("2025-11-24T10:15:32.Z")]
    [InlineData("2025-11-24T10:15:32.1234567890Z")]
    [InlineData("2025-11-24T10:15:32Z ")]
    [InlineData(" 2025-11-24T10:15:32Z")]
    [InlineData("2025-11-24T10:15:32+14:01")]
    [InlineData("2025-11-24T10:15:32+01:60")]
    [InlineData("2025-11-24T10:15:60Z")]
    [InlineData("2025-11-24T24:00:00Z")]
    [InlineData("2025-02-29T10:15:32Z")]
    [InlineData("2025-04-31T10:15:32Z")]
    [InlineData("2025-13-01T10:15:32Z")]
    [InlineData("Mon, 24 Nov 2025 10:15:32 GMT")]
    [InlineData("11/24/2025 10:15:32 +00:00")]
    [InlineData("")]
    public void Timestamps_that_are_not_RFC_3339_with_an_offset_are_refused_on_timestamp(string written)
    {
        var json = Seeds.CpapTelemetry.Replace("2025-11-24T10:15:32Z", written, StringComparison.Ordinal);

        var error = Assert.Single(Telemetry(json, Cpap).Errors);

        Assert.Equal("timestamp", error.Field);
    }

    [Theory]
    [InlineData(",\"hrv_rmssd_ms\":42.5", null)]
    [InlineData(",\"hrv_rmssd_ms\":0", null)]
    [InlineData(",\"hrv_rmssd_ms\":300", null)]
    [InlineData("", null)]
    [InlineData(",\"hrv_rmssd_ms\":300.5", "must be between 0 and 300 (was 300.5)")]
    [InlineData(",\"hrv_rmssd_ms\":-1", "must be between 0 and 300 (was -1)")]
    public void ECG_HRV_is_optional_and_held_to_0_to_300_ms(string field, string? error)
    {
        var json = Seeds.EcgTelemetry.Replace("\"signal_quality\":\"good\"", "\"signal_quality\":\"good\"" + field, StringComparison.Ordinal);
        Assert.Contains(field, json, StringComparison.Ordinal);

        var result = Telemetry(json, Ecg);

        if (error is null)
        {
            Assert.Empty(result.Errors);
        }
        else
        {
            Assert.Equal(new FieldError("metrics.hrv_rmssd_ms", error), Assert.Single(result.Errors));
        }
    }

    [Theory]
    [InlineData("1999-12-31T23:59:59Z", 1999)]
    [InlineData("2200-01-01T00:00:00Z", 2200)]
    [InlineData("0001-01-01T00:00:00Z", 1)]
    [InlineData("9999-12-31T23:59:59Z", 9999)]
    public void Timestamps_outside_years_2000_to_2199_are_refused_on_timestamp(string written, int year)
    {
        var json = Seeds.CpapTelemetry.Replace("2025-11-24T10:15:32Z", written, StringComparison.Ordinal);

        Assert.Equal(new FieldError("timestamp", $"year must be between 2000 and 2199 (was {year})"), Assert.Single(Telemetry(json, Cpap).Errors));
    }

    [Theory]
    [InlineData("\"pressure_cm_h2o\":12.4", "\"pressure_cm_h2o\":true", "metrics.pressure_cm_h2o", "expected a number (was a boolean)")]
    [InlineData("\"pressure_cm_h2o\":12.4", "\"pressure_cm_h2o\":[12.4]", "metrics.pressure_cm_h2o", "expected a number (was an array)")]
    [InlineData("\"serial\":\"CPAP-2301-9912\"", "\"serial\":2301", "serial", "expected a string (was a number)")]
    [InlineData("\"firmware\":\"v4.2.1\"", "\"firmware\":4.2", "firmware", "expected a string (was a number)")]
    [InlineData("\"patient_mode\":\"AutoCPAP\"", "\"patient_mode\":{\"name\":\"AutoCPAP\"}", "metrics.patient_mode", "expected a string (was an object)")]
    [InlineData("\"timestamp\":\"2025-11-24T10:15:32Z\"", "\"timestamp\":1764000000", "timestamp", "expected a string (was a number)")]
    public void Wrong_json_types_are_refused_on_that_field(string from, string to, string field, string reason)
    {
        var json = Seeds.CpapTelemetry.Replace(from, to, StringComparison.Ordinal);

        Assert.Equal(new FieldError(field, reason), Assert.Single(Telemetry(json, Cpap).Errors));
    }

    [Theory]
    [InlineData("\"serial\":\"OXY-8844-5521\"", "\"serial\":null", "serial")]
    [InlineData("\"timestamp\":\"2025-11-24T10:22:07Z\"", "\"timestamp\":null", "timestamp")]
    [InlineData("\"oxygen_purity_pct\":94.6", "\"oxygen_purity_pct\":null", "metrics.oxygen_purity_pct")]
    public void Null_in_a_required_field_is_refused_on_that_field(string from, string to, string field)
    {
        var json = Seeds.OxygenTelemetry.Replace(from, to, StringComparison.Ordinal);

        Assert.Equal(new FieldError(field, "must not be null"), Assert.Single(Telemetry(json, Oxygen).Errors));
    }

    [Fact]
    public void Null_in_an_optional_field_means_absent()
    {
        var json = Seeds.OxygenTelemetry.Replace("\"battery_pct\":82", "\"battery_pct\":null", StringComparison.Ordinal)
            .Replace("\"status\":\"online\"", "\"status\":null", StringComparison.Ordinal);

        var result = Telemetry(json, Oxygen);

        Assert.True(result.IsValid, result.ErrorSummary());
        var oxygen = Assert.IsType<OxygenTelemetry>(result.Value);
        Assert.Null(oxygen.Metrics.BatteryPct);
        Assert.Null(oxygen.Status);
    }

    [Fact]
    public void Every_missing_and_mistyped_field_is_reported_together()
    {
        const string json = """{"serial":"ECG-7711-0045","metrics":{"heart_rate_bpm":"78","qt_ms":380,"arrhythmia":"none","signal_quality":"good"},"lead":7}""";

        var result = Telemetry(json, Ecg);

        Assert.Equal(
            "timestamp: required field is missing; metrics.heart_rate_bpm: expected a number (was a string); metrics.qrs_ms: required field is missing; lead: expected a string (was a number)",
            result.ErrorSummary());
    }

    [Fact]
    public void Several_range_errors_are_reported_together_in_one_line()
    {
        const string json = """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07Z","metrics":{"oxygen_purity_pct":140,"flow_rate_lpm":20.5,"temperature_c":-40,"battery_pct":-1,"alarm_code":""},"status":"online"}""";

        var result = Telemetry(json, Oxygen);

        Assert.False(result.IsValid);
        Assert.NotNull(result.Value);
        Assert.Equal(
            "metrics.oxygen_purity_pct: must be between 0 and 100 (was 140); "
            + "metrics.flow_rate_lpm: must be between 0 and 15 (was 20.5); "
            + "metrics.temperature_c: must be between -20 and 80 (was -40); "
            + "metrics.battery_pct: must be between 0 and 100 (was -1); "
            + "metrics.alarm_code: must be 1 to 32 characters (was 0)",
            result.ErrorSummary());
    }

    [Fact]
    public void Range_and_serial_errors_are_reported_together()
    {
        var json = Seeds.EcgTelemetry.Replace("\"heart_rate_bpm\":78", "\"heart_rate_bpm\":401", StringComparison.Ordinal)
            .Replace("\"lead\":\"II\"", "\"lead\":\"V7\"", StringComparison.Ordinal);

        var result = Telemetry(json, SerialNumber.Parse("ECG-0000-0000"));

        Assert.Equal(["serial", "metrics.heart_rate_bpm", "lead"], result.Errors.Select(e => e.Field));
        Assert.Equal("must be one of I, II, III, aVR, aVL, aVF, V1, V2, V3, V4, V5, V6 (was 'V7')", result.Errors[2].Reason);
    }

    [Fact]
    public void Respiratory_rate_alert_band_must_have_low_below_high()
    {
        var json = Seeds.CpapConfig.Replace("\"rr_low\":10", "\"rr_low\":26", StringComparison.Ordinal);

        var result = PayloadValidator.ValidateConfig(Bytes(json), Cpap);

        Assert.Equal(new FieldError("config.alerts.rr_low", "must be less than rr_high (26) (was 26)"), Assert.Single(result.Errors));
    }

    [Fact]
    public void Ecg_heart_rate_alarm_band_must_have_low_below_high()
    {
        var json = Seeds.EcgConfig.Replace("\"hr_low_bpm\":40", "\"hr_low_bpm\":150", StringComparison.Ordinal);

        var result = PayloadValidator.ValidateConfig(Bytes(json), Ecg);

        Assert.Equal(new FieldError("config.hr_low_bpm", "must be less than hr_high_bpm (150) (was 150)"), Assert.Single(result.Errors));
    }

    [Fact]
    public void Maintenance_date_that_is_not_on_the_calendar_is_refused()
    {
        var json = Seeds.OxygenConfig.Replace("2026-01-15", "2026-02-30", StringComparison.Ordinal);

        var error = Assert.Single(PayloadValidator.ValidateConfig(Bytes(json), Oxygen).Errors);

        Assert.Equal("config.maintenance_due_date", error.Field);
        Assert.Equal("is not a calendar date (was '2026-02-30')", error.Reason);
    }

    [Fact]
    public void Report_min_hr_above_max_hr_is_refused_on_min_hr()
    {
        var json = Seeds.EcgReport.Replace("\"min_hr\":58", "\"min_hr\":120", StringComparison.Ordinal);

        var result = PayloadValidator.ValidateReport(Bytes(json), Ecg);

        Assert.Equal(new FieldError("report.summary.min_hr", "must not exceed max_hr (112) (was 120)"), Assert.Single(result.Errors));
    }

    [Fact]
    public void Report_avg_hr_outside_min_and_max_is_refused_on_avg_hr()
    {
        var json = Seeds.EcgReport.Replace("\"avg_hr\":76", "\"avg_hr\":57.5", StringComparison.Ordinal);

        var result = PayloadValidator.ValidateReport(Bytes(json), Ecg);

        Assert.Equal(new FieldError("report.summary.avg_hr", "must be between min_hr (58) and max_hr (112) (was 57.5)"), Assert.Single(result.Errors));
    }

    [Theory]
    [InlineData("CPAP-2301-9912", "cpap")]
    [InlineData("BIPAP-1000-0001", "bipap")]
    [InlineData("OXY-8844-5521", "oxygen")]
    public void Reports_from_devices_other_than_ECG_recorders_are_refused_on_serial(string serial, string kindName)
    {
        var json = Seeds.EcgReport.Replace("ECG-7711-0045", serial, StringComparison.Ordinal);

        var error = Assert.Single(PayloadValidator.ValidateReport(Bytes(json), SerialNumber.Parse(serial)).Errors);

        Assert.Equal("serial", error.Field);
        Assert.Equal($"reports are accepted from ECG recorders only; '{serial}' is a {kindName} device", error.Reason);
    }

    [Fact]
    public void A_required_property_sent_twice_is_refused_on_that_field()
    {
        // Two readers of the same bytes could otherwise disagree on which serial the message is for.
        var json = Seeds.CpapTelemetry.Replace("\"firmware\"", "\"serial\":\"CPAP-0000-0000\",\"firmware\"", StringComparison.Ordinal);

        Assert.Equal(new FieldError("serial", "appears 2 times; send it once"), Assert.Single(Telemetry(json, Cpap).Errors));
    }

    [Fact]
    public void Unknown_properties_at_any_level_are_ignored_for_forward_compatibility()
    {
        var json = Seeds.EcgTelemetry
            .Replace("\"signal_quality\":\"good\"", "\"signal_quality\":\"good\",\"st_elevation_mv\":0.1", StringComparison.Ordinal)
            .Replace("\"lead\":\"II\"", "\"lead\":\"II\",\"battery\":{\"pct\":80,\"cells\":[4.1,4.0]},\"x\":1,\"x\":2", StringComparison.Ordinal);

        var result = Telemetry(json, Ecg);

        Assert.True(result.IsValid, result.ErrorSummary());
    }

    [Fact]
    public void Property_names_are_matched_exactly()
    {
        var json = Seeds.CpapTelemetry.Replace("\"serial\"", "\"Serial\"", StringComparison.Ordinal);

        Assert.Equal(new FieldError("serial", "required field is missing"), Assert.Single(Telemetry(json, Cpap).Errors));
    }

    [Fact]
    public void Unpaired_surrogate_escape_in_a_known_text_field_is_refused_on_that_field()
    {
        var json = Seeds.CpapTelemetry.Replace("AutoCPAP", "Auto\\ud800", StringComparison.Ordinal);

        var error = Assert.Single(Telemetry(json, Cpap).Errors);

        Assert.Equal("metrics.patient_mode", error.Field);
    }

    [Fact]
    public void Leading_byte_order_mark_is_refused_on_the_document()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Bytes(Seeds.CpapTelemetry)).ToArray();

        var error = Assert.Single(PayloadValidator.ValidateTelemetry(bytes, Cpap).Errors);

        Assert.Equal("$", error.Field);
        Assert.Contains("byte-order mark", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_alert_items_are_refused_with_their_index()
    {
        var json = Seeds.EcgReport.Replace("[\"PVC detected\"]", "[\"PVC detected\",null,\"\"]", StringComparison.Ordinal);

        var result = PayloadValidator.ValidateReport(Bytes(json), Ecg);

        Assert.Equal(
            "report.summary.alerts[1]: must not be null; report.summary.alerts[2]: must be 1 to 128 characters (was 0)",
            result.ErrorSummary());
    }

    [Fact]
    public void A_flood_of_errors_is_capped_with_a_count_of_the_rest()
    {
        var items = string.Join(",", Enumerable.Repeat("1", 40));
        var json = Seeds.EcgReport.Replace("[\"PVC detected\"]", $"[{items}]", StringComparison.Ordinal);

        var result = PayloadValidator.ValidateReport(Bytes(json), Ecg);

        Assert.Equal(33, result.Errors.Count);
        Assert.Equal(new FieldError("report.summary.alerts[0]", "expected a string (was a number)"), result.Errors[0]);
        Assert.Equal(new FieldError("$", "8 more errors not shown"), result.Errors[32]);
    }

    [Fact]
    public void An_unparsed_serial_is_a_programming_error()
    {
        Assert.Throws<ArgumentException>(() => PayloadValidator.ValidateTelemetry(Bytes(Seeds.CpapTelemetry), default));
        Assert.Throws<ArgumentException>(() => PayloadValidator.ValidateConfig(Bytes(Seeds.CpapConfig), default));
        Assert.Throws<ArgumentException>(() => PayloadValidator.ValidateReport(Bytes(Seeds.EcgReport), default));
    }

    [Fact]
    public void Valid_payload_reports_an_empty_error_list_and_empty_summary()
    {
        var result = Telemetry(Seeds.EcgTelemetry, Ecg);

        Assert.True(result.IsValid);
        Assert.Empty(result.Errors);
        Assert.Equal(string.Empty, result.ErrorSummary());
    }

    private static Validated<Payloads.Telemetry> Telemetry(string json, SerialNumber serial) =>
        PayloadValidator.ValidateTelemetry(Bytes(json), serial);

    private static string WithUnknownField(string json, string value) =>
        json.Replace("\"firmware\"", $"\"extra\":{value},\"firmware\"", StringComparison.Ordinal);

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);
}
