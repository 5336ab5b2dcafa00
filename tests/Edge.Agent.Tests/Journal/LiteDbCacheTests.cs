using System.Reflection;
using Edge.Agent.Journal;
using Edge.Testing;
using LiteDB;
using LiteDB.Engine;

namespace Edge.Agent.Tests.Journal;

/// <summary>
/// LiteDB's page cache under <see cref="LiteDbCache"/>'s bound. Only the default bound is set here: the agent's host
/// tests set the same one, and the sizes are process-wide.
/// </summary>
public sealed class LiteDbCacheTests : IDisposable
{
    private const int Bound = 100;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_default_setting_is_the_bound_tested_here() => Assert.Equal(Bound, new JournalOptions().CacheSegmentPages);

    [Fact]
    public void Every_segment_is_capped_and_the_small_first_ones_stay()
    {
        LiteDbCache.Bound(Bound);

        Assert.Equal([12, 50, 100, 100, 100], LiteDbCache.SegmentSizes);
    }

    [Fact]
    public void Many_small_commits_reuse_idle_pages_instead_of_growing_the_cache()
    {
        LiteDbCache.Bound(Bound);
        using var engine = new LiteEngine(new EngineSettings { Filename = _dir.File("cache.db") });
        using var db = new LiteDatabase(engine);
        var readings = db.GetCollection("readings");
        var payload = new string('x', 1500);

        // ~6 MB (about 750 pages) in commits of one document each, as the journal commits readings.
        for (var i = 0; i < 4000; i++)
        {
            readings.Insert(new BsonDocument { ["_id"] = i, ["payload"] = payload });
        }

        var (segments, pages) = CacheOf(engine);
        Assert.All(segments, size => Assert.True(size <= Bound, $"a segment of {size} pages"));
        // LiteDB's own sizes would have reached 12 + 50 + 100 + 500 (+ 1000) pages for the same work.
        Assert.True(pages <= 4 * Bound, $"the cache holds {pages} pages in {segments.Count} segments");
        Assert.Equal(4000, readings.Count());
    }

    /// <summary>The segments LiteDB's cache allocated for this engine (LiteEngine._disk._cache, 5.0.21).</summary>
    private static (IReadOnlyList<int> Segments, int Pages) CacheOf(LiteEngine engine)
    {
        const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic;
        var disk = typeof(LiteEngine).GetField("_disk", Instance)!.GetValue(engine)!;
        var cache = disk.GetType().GetField("_cache", Instance)!.GetValue(disk)!;
        var sizes = (int[])cache.GetType().GetField("_segmentSizes", Instance)!.GetValue(cache)!;
        var extends = (int)cache.GetType().GetField("_extends", Instance)!.GetValue(cache)!;
        // One extension per segment, the first when the cache is made; each takes the next size (the last repeats).
        var segments = Enumerable.Range(0, extends).Select(i => sizes[Math.Min(i, sizes.Length - 1)]).ToArray();
        return (segments, segments.Sum());
    }
}
