using System.Reflection;

namespace Edge.Agent.Journal;

/// <summary>
/// Bounds how LiteDB 5 grows its page cache. LiteDB keeps cached pages in segments it allocates as one array each and
/// never frees while the database is open: 12, 50, 100, 500 pages, then 1000 pages (8 MiB, on the large object heap)
/// for every further extension. When it runs out of free pages it re-uses idle cached pages only if more idle pages
/// than the next segment holds (1000) are cached, and otherwise allocates a new segment; so each burst that holds many
/// pages at once (a backlog read after an uplink cut, a large delete) leaves another 8 MiB behind for good, the agent's
/// memory steps up at each and never comes down (docs/durability.md, "Memory"). With every segment at most
/// <see cref="JournalOptions.CacheSegmentPages"/> pages, the cache re-uses idle pages as soon as that many are idle
/// and grows in steps of that size, so it stays near the pages actually in use. The sizes are LiteDB's
/// <c>Constants.MEMORY_SEGMENT_SIZES</c> (5.0.21; no setting exposes them), read by every engine when it opens: this
/// must run before the journal opens, and applies to every LiteDB database of the process.
/// </summary>
internal static class LiteDbCache
{
    private const string ConstantsType = "LiteDB.Constants";
    private const string SegmentSizesField = "MEMORY_SEGMENT_SIZES";

    /// <summary>LiteDB's own sizes, kept so that a second bound starts from them, not from the first bound.</summary>
    private static readonly int[] Original = [.. (int[])Field().GetValue(null)!];

    /// <summary>The segment sizes LiteDB will use for the next database it opens.</summary>
    public static IReadOnlyList<int> SegmentSizes => (int[])Field().GetValue(null)!;

    /// <summary>
    /// Caps every segment at <paramref name="maxSegmentPages"/> pages (the smaller first segments stay as they are).
    /// Throws when this LiteDB has no such field, so an upgrade that moved it fails the tests and the start rather than
    /// silently dropping the bound.
    /// </summary>
    public static void Bound(int maxSegmentPages)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSegmentPages, 1);
        Field().SetValue(null, Original.Select(size => Math.Min(size, maxSegmentPages)).ToArray());
    }

    private static FieldInfo Field() =>
        typeof(LiteDB.LiteDatabase).Assembly.GetType(ConstantsType)?.GetField(SegmentSizesField, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            is { FieldType: var type } field && type == typeof(int[]) && !field.IsInitOnly
            ? field
            : throw new InvalidOperationException($"LiteDB {typeof(LiteDB.LiteDatabase).Assembly.GetName().Version} has no {ConstantsType}.{SegmentSizesField} (int[]): the journal's cache bound (Agent:Journal:CacheSegmentPages) cannot be applied; review LiteDbCache for this LiteDB version.");
}
