namespace Edge.Testing.Mongo;

/// <summary>
/// A fact that needs a real MongoDB server: it runs when <c>EDGE_TEST_MONGODB_URI</c> is set (e.g.
/// <c>mongodb://127.0.0.1:27017</c>) and is skipped with that reason otherwise.
/// </summary>
/// <remarks>
/// No MongoDB server can be installed on the development machines (not in Debian, not on the NuGet feed, and npm's
/// "wire-compatible" test servers do not enforce unique keys, which is what the CPAP store relies on), so these tests
/// run wherever a real server is at hand. Tests make their own database and drop it afterwards.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class MongoFactAttribute : FactAttribute
{
    public const string UriVariable = "EDGE_TEST_MONGODB_URI";

    public MongoFactAttribute()
    {
        if (Uri is null)
        {
            Skip = $"{UriVariable} is not set: MongoDB integration tests need a real server (e.g. {UriVariable}=mongodb://127.0.0.1:27017).";
        }
    }

    /// <summary>The server's URI, or null when the tests are skipped.</summary>
    public static string? Uri =>
        Environment.GetEnvironmentVariable(UriVariable) is { Length: > 0 } uri && !string.IsNullOrWhiteSpace(uri) ? uri.Trim() : null;
}
