namespace Edge.Testing;

/// <summary>Files of the repository the tests check against (docs, schemas, committed contracts).</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding Edge.sln: above the test output, or where the tests were built from.</summary>
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !System.IO.File.Exists(Path.Combine(directory.FullName, "Edge.sln")))
        {
            directory = directory.Parent;
        }
        if (directory is not null)
        {
            return directory.FullName;
        }
        var built = typeof(RepositoryPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        return built is not null && System.IO.File.Exists(Path.Combine(built, "Edge.sln"))
            ? built
            : throw new InvalidOperationException("Edge.sln not found above " + AppContext.BaseDirectory);
    }
}
