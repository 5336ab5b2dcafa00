using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>
/// The few operations the agent's device-state collections need (desired configs, firmware offers, presence, the event
/// outbox), over the journal's database: documents by id in a named collection, a filtered delete, the first documents
/// in id order. The device-state store gets this instead of the database, so it cannot reach the readings, the
/// counters, the dead letters or the reports, nor begin, commit or checkpoint anything: the journal's writer does that.
/// An instance is only valid inside the <see cref="ReadingJournal.CommitStateAsync{T}"/> or
/// <see cref="ReadingJournal.ReadState{T}"/> call that passed it.
/// </summary>
internal sealed class StateDocuments
{
    // The journal's own collections: readings, counters, dead letters, reports and their files.
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "urgent", "routine", "meta", "dead_letters", ReadingJournal.ReportsCollection, "_files", "_chunks",
    };

    private readonly LiteDatabase _db;

    internal StateDocuments(LiteDatabase db) => _db = db;

    /// <summary>The document with this id, or null.</summary>
    public BsonDocument? Find(string collection, BsonValue id) => Collection(collection).FindById(id);

    /// <summary>Every document of the collection, in id order.</summary>
    public IReadOnlyList<BsonDocument> All(string collection) => Collection(collection).FindAll().ToList();

    /// <summary>At most <paramref name="max"/> documents, lowest ids first.</summary>
    public IReadOnlyList<BsonDocument> First(string collection, int max) => Collection(collection).Find(Query.All(), 0, max).ToList();

    /// <summary>The document with the highest id, or null when the collection is empty.</summary>
    public BsonDocument? Last(string collection) => Collection(collection).Find(Query.All(Query.Descending), 0, 1).FirstOrDefault();

    public int Count(string collection) => Collection(collection).Count();

    /// <summary>Inserts or replaces the document with its <c>_id</c>.</summary>
    public void Upsert(string collection, BsonDocument document) => Collection(collection).Upsert(document);

    /// <summary>Inserts a document; its <c>_id</c> is given, or a new 64-bit id when absent.</summary>
    public void Insert(string collection, BsonDocument document) => Collection(collection).Insert(document);

    /// <summary>True when a document with this id was there.</summary>
    public bool Delete(string collection, BsonValue id) => Collection(collection).Delete(id);

    /// <summary>
    /// Deletes the documents the predicate selects. The predicate names its values as parameters (<c>@0</c>, <c>@1</c>)
    /// rather than in its text: LiteDB compiles every new expression text afresh.
    /// </summary>
    public int DeleteWhere(string collection, string predicate, params BsonValue[] parameters) =>
        Collection(collection).DeleteMany(BsonExpression.Create(predicate, parameters));

    private ILiteCollection<BsonDocument> Collection(string name)
    {
        if (Reserved.Contains(name))
        {
            throw new ArgumentException($"The collection '{name}' belongs to the journal itself, not to the device state.", nameof(name));
        }

        return _db.GetCollection(name, BsonAutoId.Int64);
    }
}
