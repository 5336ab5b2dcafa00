namespace Edge.Cli.Tests.Infrastructure;

/// <summary>A directory under /tmp removed when the test ends. Short, because Unix socket paths are limited to 108 bytes.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("edgectl-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file may still be closing; the OS cleans /tmp.
        }
    }
}
