using System.Text;
using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Contracts.Validation;

namespace Edge.Contracts.Tests;

public sealed class SeedPayloadTests
{
    private static readonly SerialNumber Cpap = SerialNumber.Parse("CPAP-2301-9912");
    private static readonly SerialNumber Oxygen = SerialNumber.Parse("OXY-8844-5521");
    private static readonly SerialNumber Ecg = SerialNumber.Parse("ECG-7711-0045");

    [Fact]
    public void Cpap_telemetry_seed_is_accepted_with_every_value_read()
    {
        var result = PayloadValidator.ValidateTelemetry(Bytes(Seeds.CpapTelemetry), Cpap);

        Assert.True(result.IsValid, result.ErrorSummary());
        var expected = new CpapTelemetry("CPAP-2301-9912", new DateTimeOffset(2025, 11, 24, 10, 15, 32, TimeSpan.Zero),
            new CpapMetrics(12.4, 18, 24.1, "AutoCPAP"), "v4.2.1");
        Assert.Equal(expected, result.Value);
    }

    [Fact]
    public void Oxygen_telemetry_seed_is_accepted_with_every_value_read()
    {
        var result = PayloadValidator.ValidateTelemetry(Bytes(Seeds.OxygenTelemetry), Oxygen);

        Assert.True(result.IsValid, result.ErrorSummary());
        var expected = new OxygenTelemetry("OXY-8844-5521", new DateTimeOffset(2025, 11, 24, 10, 22, 7, TimeSpan.Zero),
            new OxygenMetrics(94.6, 2.5, 37.2, 82, null), "online");
        Assert.Equal(expected, result.Value);
    }

    [Fact]
    public void Ecg_telemetry_seed_is_accepted_with_every_value_read()
    {
        var result = PayloadValidator.ValidateTelemetry(Bytes(Seeds.EcgTelemetry), Ecg);

        Assert.True(result.IsValid, result.ErrorSummary());
        var expected = new EcgTelemetry("ECG-7711-0045", new DateTimeOffset(2025, 11, 24, 10, 30, 11, TimeSpan.Zero),
            new EcgMetrics(78, 92, 380, "none", "good"), "II");
        Assert.Equal(expected, result.Value);
    }

    [Fact]
    public void Cpap_config_seed_is_accepted_with_every_value_read()
    {
        var result = PayloadValidator.ValidateConfig(Bytes(Seeds.CpapConfig), Cpap);

        Assert.True(result.IsValid, result.ErrorSummary());
        Assert.Equal(new CpapConfigMessage("CPAP-2301-9912", new CpapConfig(12, 3, new CpapAlerts(30, 10, 26))), result.Value);
        Assert.Null(result.Value!.Version);
    }

    [Fact]
    public void Oxygen_config_seed_is_accepted_with_every_value_read()
    {
        var result = PayloadValidator.ValidateConfig(Bytes(Seeds.OxygenConfig), Oxygen);

        Assert.True(result.IsValid, result.ErrorSummary());
        Assert.Equal(new OxygenConfigMessage("OXY-8844-5521", new OxygenConfig(3.0, true, new DateOnly(2026, 1, 15))), result.Value);
    }

    [Fact]
    public void Ecg_config_design_example_is_accepted_with_every_value_read()
    {
        var result = PayloadValidator.ValidateConfig(Bytes(Seeds.EcgConfig), Ecg);

        Assert.True(result.IsValid, result.ErrorSummary());
        Assert.Equal(new EcgConfigMessage("ECG-7711-0045", new EcgConfig(40, 150, 500, "II"), 3), result.Value);
    }

    [Fact]
    public void Ecg_report_seed_is_accepted_with_every_value_read()
    {
        var result = PayloadValidator.ValidateReport(Bytes(Seeds.EcgReport), Ecg);

        Assert.True(result.IsValid, result.ErrorSummary());
        var report = result.Value!.Report;
        Assert.Equal("ECG-7711-0045", result.Value.Serial);
        Assert.Equal("rpt_893445", report.ReportId);
        Assert.Equal("s3://ecg-reports/2025/11/24/rpt_893445.pdf", report.S3Url);
        Assert.Equal((76d, 112d, 58d), (report.Summary.AvgHr, report.Summary.MaxHr, report.Summary.MinHr));
        Assert.Equal(["PVC detected"], report.Summary.Alerts);
    }

    [Theory]
    [MemberData(nameof(Seeds.All), MemberType = typeof(Seeds))]
    public void Seed_sample_file_holds_the_seed_verbatim(string file, string seed)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", "valid", file));

        Assert.Equal(seed, text.TrimEnd('\n'));
    }

    [Theory]
    [MemberData(nameof(Seeds.All), MemberType = typeof(Seeds))]
    public void Payloads_doc_quotes_every_seed_verbatim(string file, string seed)
    {
        _ = file;
        Assert.Contains(seed, File.ReadAllText(Edge.Testing.RepositoryPaths.File("docs", "payloads.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Payloads_doc_quotes_the_ecg_config_design_example()
    {
        Assert.Contains(Seeds.EcgConfig, File.ReadAllText(Edge.Testing.RepositoryPaths.File("docs", "payloads.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Records_written_by_the_context_validate_again_and_read_back_equal()
    {
        // The cloud writes configs with the same context the gateway validates them with; both directions must agree.
        var telemetry = new CpapTelemetry("BIPAP-1000-0001", new DateTimeOffset(2025, 11, 24, 11, 15, 32, 123, TimeSpan.FromHours(1)),
            new CpapMetrics(12.4, 18, 24.1), "v4.2.1");
        var config = new EcgConfigMessage("ECG-7711-0045", new EcgConfig(40, 150, 1000, "aVF"), 12);
        var oxygen = new OxygenConfigMessage("OXY-8844-5521", new OxygenConfig(2.5, false, new DateOnly(2026, 1, 15)));

        var telemetryJson = JsonSerializer.SerializeToUtf8Bytes(telemetry, ContractsJsonContext.Default.CpapTelemetry);
        var configJson = JsonSerializer.SerializeToUtf8Bytes(config, ContractsJsonContext.Default.EcgConfigMessage);
        var oxygenJson = JsonSerializer.SerializeToUtf8Bytes(oxygen, ContractsJsonContext.Default.OxygenConfigMessage);

        Assert.Contains("\"timestamp\":\"2025-11-24T11:15:32.123+01:00\"", Encoding.UTF8.GetString(telemetryJson), StringComparison.Ordinal);
        Assert.Contains("\"maintenance_due_date\":\"2026-01-15\"", Encoding.UTF8.GetString(oxygenJson), StringComparison.Ordinal);
        Assert.DoesNotContain("version", Encoding.UTF8.GetString(oxygenJson), StringComparison.Ordinal);
        Assert.Equal(telemetry, PayloadValidator.ValidateTelemetry(telemetryJson, SerialNumber.Parse("BIPAP-1000-0001")).Value);
        Assert.Equal(config, PayloadValidator.ValidateConfig(configJson, Ecg).Value);
        Assert.Equal(oxygen, PayloadValidator.ValidateConfig(oxygenJson, Oxygen).Value);
    }

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);
}
