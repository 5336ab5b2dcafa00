using Edge.Storage.Cpap;
using MongoDB.Bson;

namespace Edge.Storage.Tests.Cpap;

public sealed class CpapMongoSchemaTests
{
    [Fact]
    public void Device_data_has_a_serial_timestamp_index_a_ttl_index_on_the_device_time_and_a_unique_content_id()
    {
        var indexes = CpapMongoSchema.DeviceDataIndexes(365);

        Assert.Equal(
            [
                new BsonDocument { { "key", new BsonDocument { { "serial", 1 }, { "timestamp", 1 } } }, { "name", "serial_1_timestamp_1" } },
                new BsonDocument { { "key", new BsonDocument { { "timestamp", 1 } } }, { "name", "timestamp_ttl" }, { "expireAfterSeconds", 31_536_000 } },
                new BsonDocument
                {
                    { "key", new BsonDocument { { "contentId", 1 } } }, { "name", "contentId_unique" }, { "unique", true },
                    { "partialFilterExpression", new BsonDocument("contentId", new BsonDocument("$exists", true)) },
                },
            ],
            indexes);
    }

    [Theory]
    [InlineData(1, 86_400)]
    [InlineData(3650, 315_360_000)]
    public void The_ttl_is_the_retention_in_seconds(int days, int seconds)
    {
        Assert.Equal(seconds, CpapMongoSchema.ExpireAfterSeconds(days));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3651)]
    public void A_retention_outside_1_to_3650_days_is_refused(int days)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CpapMongoSchema.DeviceDataIndexes(days));
    }

    [Fact]
    public void A_new_collection_gets_all_indexes_in_one_createIndexes()
    {
        var commands = CpapMongoSchema.PlanIndexCommands([IdIndex()], 30);

        var command = Assert.Single(commands);
        Assert.Equal("device_data", command["createIndexes"].AsString);
        Assert.Equal(CpapMongoSchema.DeviceDataIndexes(30), command["indexes"].AsBsonArray.Select(i => i.AsBsonDocument));
    }

    [Fact]
    public void Nothing_is_done_when_the_indexes_are_already_there()
    {
        var existing = CpapMongoSchema.DeviceDataIndexes(30).Select(i => Listed(i)).Prepend(IdIndex());

        Assert.Empty(CpapMongoSchema.PlanIndexCommands(existing, 30));
    }

    [Fact]
    public void A_changed_retention_updates_the_ttl_with_collMod_instead_of_recreating_the_index()
    {
        var existing = CpapMongoSchema.DeviceDataIndexes(30).Select(i => Listed(i)).Prepend(IdIndex());

        var command = Assert.Single(CpapMongoSchema.PlanIndexCommands(existing, 90));

        Assert.Equal(
            new BsonDocument
            {
                { "collMod", "device_data" },
                { "index", new BsonDocument { { "name", "timestamp_ttl" }, { "expireAfterSeconds", 90 * 86_400 } } },
            },
            command);
    }

    [Fact]
    public void A_missing_index_and_a_changed_ttl_are_both_fixed()
    {
        var ttlOnly = Listed(CpapMongoSchema.DeviceDataIndexes(30)[1]);
        // The server may list expireAfterSeconds as a double; the value is what counts.
        ttlOnly["expireAfterSeconds"] = new BsonDouble(30 * 86_400);

        Assert.Empty(CpapMongoSchema.PlanIndexCommands([IdIndex(), ttlOnly, Listed(CpapMongoSchema.DeviceDataIndexes(30)[0]), Listed(CpapMongoSchema.DeviceDataIndexes(30)[2])], 30));

        var commands = CpapMongoSchema.PlanIndexCommands([IdIndex(), ttlOnly], 7);
        Assert.Equal(["createIndexes", "collMod"], commands.Select(c => c.GetElement(0).Name));
        Assert.Equal("serial_1_timestamp_1", commands[0]["indexes"][0]["name"].AsString);
    }

    [Fact]
    public void A_collection_from_before_content_ids_gets_the_content_id_index_alone()
    {
        var before = CpapMongoSchema.DeviceDataIndexes(30).Take(2).Select(i => Listed(i)).Prepend(IdIndex());

        var command = Assert.Single(CpapMongoSchema.PlanIndexCommands(before, 30));

        Assert.Equal("contentId_unique", Assert.Single(command["indexes"].AsBsonArray)["name"].AsString);
    }

    [Fact]
    public void The_store_creates_device_data_and_device_config()
    {
        Assert.Equal(["device_data", "device_config"], CpapMongoSchema.Collections);
    }

    private static BsonDocument IdIndex() => new() { { "v", 2 }, { "key", new BsonDocument("_id", 1) }, { "name", "_id_" } };

    // listIndexes returns the specification with the index version added.
    private static BsonDocument Listed(BsonDocument spec) => new BsonDocument("v", 2).AddRange(spec);
}
