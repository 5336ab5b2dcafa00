using Edge.Contracts.Identity;
using Edge.Storage.Cpap;
using Edge.Storage.Ecg;
using Edge.Storage.Oxygen;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Postgres;

/// <summary>
/// A device whose PUBACK was lost re-sends the same bytes; a gateway that restarted after syncing the first copy
/// journals the re-send under a new sequence (or a new epoch, after a reinstall). Every PostgreSQL store keeps it once.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class ContentIdTests(PostgresServer server) : PostgresTest(server)
{
    public static TheoryData<string> Stores => ["oxygen", "ecg", "cpap"];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task The_same_reading_under_two_journal_identities_is_stored_once_and_counted_as_a_duplicate(string kind)
    {
        var (store, table) = await MigratedAsync(kind);
        var first = Reading(kind, 7);
        var again = Reissued(first, epoch: 2, sequence: 913);

        Assert.Equal(1, await store.WriteAsync([first], CancellationToken.None));
        Assert.Equal(0, await store.WriteAsync([again], CancellationToken.None));

        Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal(first.Id, await ScalarAsync<Guid>($"SELECT id FROM {table}"));
        Assert.Equal(first.ContentId, await ScalarAsync<Guid>($"SELECT content_id FROM {table}"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task The_same_reading_twice_in_one_batch_under_two_identities_is_stored_once_beside_the_new_ones(string kind)
    {
        var (store, table) = await MigratedAsync(kind);
        var one = Reading(kind, 1);
        var two = Reading(kind, 2, seconds: 1);
        var batch = new List<StoredReading> { one, Reissued(one, epoch: 1, sequence: 3), two, Reissued(two, epoch: 5, sequence: 1) };

        Assert.Equal(2, await store.WriteAsync(batch, CancellationToken.None));
        // A new reading beside a content duplicate of a stored one: the COPY fails on the duplicate, the slow path stores the new one.
        var three = Reading(kind, 4, seconds: 2);
        Assert.Equal(1, await store.WriteAsync([Reissued(one, epoch: 9, sequence: 9), three], CancellationToken.None));

        Assert.Equal(3L, await ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal(3L, await ScalarAsync<long>($"SELECT count(DISTINCT content_id) FROM {table}"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Rows_stored_before_content_ids_keep_a_null_content_id_and_do_not_conflict(string kind)
    {
        var (store, table) = await MigratedAsync(kind);
        await store.WriteAsync([Reading(kind, 1), Reading(kind, 2, seconds: 1)], CancellationToken.None);
        await using (var command = Probe.CreateCommand($"UPDATE {table} SET content_id = NULL"))
        {
            await command.ExecuteNonQueryAsync();
        }

        Assert.Equal(1, await store.WriteAsync([Reading(kind, 3, seconds: 2)], CancellationToken.None));
        Assert.Equal(2L, await ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE content_id IS NULL"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_made_up_content_id_is_refused_before_anything_is_written(string kind)
    {
        var (store, table) = await MigratedAsync(kind);
        var madeUp = Reading(kind, 1) with { ContentId = Guid.NewGuid() };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync([madeUp], CancellationToken.None));

        Assert.Contains("content id", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    private static StoredReading Reading(string kind, long sequence, int seconds = 0) => kind switch
    {
        "oxygen" => Readings.Oxygen(sequence, Readings.January15.AddSeconds(seconds)),
        "ecg" => Readings.Ecg(sequence, Readings.January15.AddSeconds(seconds)),
        _ => Readings.Cpap(sequence, Readings.January15.AddSeconds(seconds)),
    };

    // The same bytes from the same device, journaled again by the gateway under another identity.
    private static StoredReading Reissued(StoredReading reading, long epoch, long sequence) =>
        reading with { Id = ReadingId.From(reading.GatewayId, epoch, sequence), Epoch = epoch, Sequence = sequence };

    private async Task<(IReadingStore Store, string Table)> MigratedAsync(string kind)
    {
        (IReadingStore store, string table) = kind switch
        {
            "oxygen" => ((IReadingStore)new OxygenStore(DataSource, 3650, Clock, Logger<OxygenStore>()), OxygenStore.Table),
            "ecg" => (new EcgStore(DataSource, 3650, Clock, Logger<EcgStore>()), EcgStore.Table),
            _ => (new CpapPostgresStore(DataSource, 3650, Clock, Logger<CpapPostgresStore>()), CpapPostgresStore.Table),
        };
        await store.MigrateAsync(CancellationToken.None);
        return (store, table);
    }
}
