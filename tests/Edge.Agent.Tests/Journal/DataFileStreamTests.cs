using Edge.Agent.Journal;
using Edge.Testing;

namespace Edge.Agent.Tests.Journal;

public sealed class DataFileStreamTests : IDisposable
{
    private const int Page = 8192;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_page_written_many_times_before_the_flush_reaches_the_file_once_with_its_last_version()
    {
        var path = _dir.File("data.db");
        using (var stream = new DataFileStream(path))
        {
            WritePage(stream, 2, 0xA1);
            WritePage(stream, 0, 0xB0);
            WritePage(stream, 2, 0xA2);
            WritePage(stream, 2, 0xA3);
            Assert.Equal(3 * Page, stream.Length); // held pages count towards the length LiteDB sees
            stream.Flush();

            Assert.Equal((4, 2), stream.PageWrites);
        }

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(3 * Page, bytes.Length);
        Assert.All(bytes[..Page], b => Assert.Equal(0xB0, b));
        Assert.All(bytes[(2 * Page)..], b => Assert.Equal(0xA3, b));
    }

    [Fact]
    public void A_read_sees_the_pages_still_held()
    {
        using var stream = new DataFileStream(_dir.File("data.db"));
        WritePage(stream, 1, 0x11);
        WritePage(stream, 1, 0x12);

        var page = new byte[Page];
        stream.Position = Page;
        Assert.Equal(Page, stream.Read(page, 0, Page));
        Assert.All(page, b => Assert.Equal(0x12, b));
        Assert.Equal(2 * Page, stream.Position);
    }

    [Fact]
    public void Held_pages_are_bounded_and_a_close_writes_them()
    {
        var path = _dir.File("data.db");
        using (var stream = new DataFileStream(path))
        {
            for (var i = 0; i < DataFileStream.MaxHeldPages + 10; i++)
            {
                WritePage(stream, i, (byte)i);
            }

            Assert.Equal(DataFileStream.MaxHeldPages, stream.PageWrites.Written); // written when the limit was reached
        }

        var bytes = File.ReadAllBytes(path);
        Assert.Equal((DataFileStream.MaxHeldPages + 10) * Page, bytes.Length);
        Assert.Equal(unchecked((byte)(DataFileStream.MaxHeldPages + 9)), bytes[^1]);
    }

    private static void WritePage(Stream stream, int page, byte fill)
    {
        stream.Position = (long)page * Page;
        var buffer = new byte[Page];
        Array.Fill(buffer, fill);
        stream.Write(buffer, 0, Page);
    }
}
