using Edge.Storage.Ecg;

namespace Edge.Storage.Tests.Ecg;

/// <summary>
/// The TimescaleDB branch cannot run here (no package for Debian 12 on this machine), so its SQL choice is checked as
/// text; the native branch runs against the real server in <see cref="EcgStoreTests"/>.
/// </summary>
public sealed class EcgSchemaTests
{
    [Fact]
    public void With_TimescaleDB_version_1_creates_the_extension_and_a_hypertable_on_device_time()
    {
        var migration = EcgStore.Migrations(timescale: true)[0];

        Assert.Equal(1, migration.Version);
        Assert.Contains("CREATE EXTENSION IF NOT EXISTS timescaledb;", migration.Sql, StringComparison.Ordinal);
        Assert.Contains("SELECT create_hypertable('ecg_readings', 'device_time'", migration.Sql, StringComparison.Ordinal);
        Assert.Contains("PRIMARY KEY (id, device_time)", migration.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("PARTITION", migration.Sql, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_TimescaleDB_version_1_creates_monthly_range_partitions_and_a_default_partition()
    {
        var migration = EcgStore.Migrations(timescale: false)[0];

        Assert.Equal(1, migration.Version);
        Assert.Contains("PARTITION BY RANGE (device_time)", migration.Sql, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE ecg_readings_default PARTITION OF ecg_readings DEFAULT", migration.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("timescaledb", migration.Sql, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Both_branches_have_the_same_columns_checks_and_index()
    {
        var hypertable = EcgStore.Migrations(timescale: true)[0].Sql;
        var native = EcgStore.Migrations(timescale: false)[0].Sql;

        foreach (var part in (string[])["heart_rate_bpm_range", "lead_known", "signal_quality_known", "raw                 jsonb",
            "CREATE INDEX ecg_readings_serial_time ON ecg_readings (serial, device_time, seq)"])
        {
            Assert.Contains(part, hypertable, StringComparison.Ordinal);
            Assert.Contains(part, native, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TimescaleDB_counts_as_usable_only_when_installed_or_available_and_preloaded()
    {
        Assert.Contains("pg_extension WHERE extname = 'timescaledb'", EcgStore.TimescaleUsableSql, StringComparison.Ordinal);
        Assert.Contains("pg_available_extensions WHERE name = 'timescaledb'", EcgStore.TimescaleUsableSql, StringComparison.Ordinal);
        Assert.Contains("shared_preload_libraries", EcgStore.TimescaleUsableSql, StringComparison.Ordinal);
    }
}
