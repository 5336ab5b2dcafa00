using Edge.Api.Hosting;

namespace Edge.Api.Tests.Hosting;

/// <summary>The API's built-in defaults: loopback only unless told otherwise, and below every other source.</summary>
public sealed class ApiDefaultsTests
{
    [Fact]
    public async Task The_api_listens_on_loopback_by_default_and_any_other_source_overrides_it()
    {
        await using var defaults = ApiApplication.Build([]);
        Assert.Equal("http://127.0.0.1:8080", defaults.Configuration["Urls"]);
        Assert.Equal("Warning", defaults.Configuration["Logging:LogLevel:Microsoft.AspNetCore"]);

        await using var overridden = ApiApplication.Build(["--Urls=http://127.0.0.1:18080"]);
        Assert.Equal("http://127.0.0.1:18080", overridden.Configuration["Urls"]);
    }
}
