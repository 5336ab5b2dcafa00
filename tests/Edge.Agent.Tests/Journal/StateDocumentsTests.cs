using System.Text;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Devices;
using Edge.Testing;
using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Edge.Agent.Tests.Journal;

/// <summary>
/// What the device-state store may do with the journal's database: its own documents, durable with the group, and
/// nothing of the journal's (readings, counters, dead letters, reports).
/// </summary>
public sealed class StateDocumentsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(Seed.Start);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_device_state_cannot_reach_the_journals_own_collections()
    {
        await using var journal = Open();
        await journal.AppendAsync(Entry(0));

        foreach (var name in new[] { "urgent", "routine", "meta", "dead_letters", "reports", "_files", "_chunks", "ROUTINE" })
        {
            var read = Assert.Throws<ArgumentException>(() => journal.ReadState(db => db.All(name)));
            Assert.Contains(name, read.Message, StringComparison.Ordinal);
        }

        // A change that tries is refused with its whole group, and nothing of the journal's changes.
        await Assert.ThrowsAsync<ArgumentException>(() => journal.CommitStateAsync(db => db.DeleteWhere("routine", "_id > @0", 0)));
        Assert.Single(journal.Read(Lane.Routine, 0, 10));
        Assert.Equal(1, journal.Snapshot.EntriesPerLane[(int)Lane.Routine]);
    }

    [Fact]
    public async Task Documents_are_stored_found_listed_and_deleted_and_survive_a_reopen()
    {
        await using (var journal = Open())
        {
            await journal.CommitStateAsync(db =>
            {
                db.Upsert("configs", new BsonDocument { ["_id"] = "OXY-8844-5521", ["v"] = 1 });
                db.Upsert("configs", new BsonDocument { ["_id"] = "OXY-8844-5521", ["v"] = 2 });
                db.Insert("outbox", new BsonDocument { ["_id"] = 7L, ["type"] = "presence", ["serial"] = "A" });
                db.Insert("outbox", new BsonDocument { ["_id"] = 8L, ["type"] = "presence", ["serial"] = "B" });
                db.Insert("outbox", new BsonDocument { ["_id"] = 9L, ["type"] = "config", ["serial"] = "A" });
                return true;
            });
            Assert.Equal(1, await journal.CommitStateAsync(db => db.DeleteWhere("outbox", "type = @0 AND serial = @1", "presence", "A")));
            Assert.True(await journal.CommitStateAsync(db => db.Delete("outbox", 8L)));
            Assert.False(await journal.CommitStateAsync(db => db.Delete("outbox", 8L)));
        }

        await using var reopened = Open();
        Assert.Equal(2, reopened.ReadState(db => db.Find("configs", "OXY-8844-5521"))!["v"].AsInt32);
        Assert.Null(reopened.ReadState(db => db.Find("configs", "CPAP-2301-9912")));
        Assert.Equal([9L], reopened.ReadState(db => db.All("outbox")).Select(d => d["_id"].AsInt64));
        Assert.Equal(9L, reopened.ReadState(db => db.Last("outbox"))!["_id"].AsInt64);
        Assert.Single(reopened.ReadState(db => db.First("outbox", 5)));
        Assert.Equal(1, reopened.ReadState(db => db.Count("outbox")));
    }

    private ReadingJournal Open() => ReadingJournal.Open(_dir.File("journal.db"), "gw-test", new JournalOptions(), _time, NullLogger.Instance);

    private static NewEntry Entry(int second)
    {
        var at = Seed.Start.AddSeconds(second);
        return new NewEntry("OXY-8844-5521", DeviceKind.Oxygen, Lane.Routine, at, Encoding.UTF8.GetBytes(Seed.Oxygen("OXY-8844-5521", at)));
    }
}
