using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Testing.Api;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Api.Tests.Infrastructure;

/// <summary>
/// Base of the API tests: a fresh database per test class instance, the real API on a loopback port, and an admin client.
/// </summary>
/// <remarks>Derived classes carry <c>[Collection(PostgresServer.Collection)]</c> themselves: xunit does not inherit it.</remarks>
public abstract class ApiTest(PostgresServer server) : IAsyncLifetime
{
    private static int s_databases;

    protected InProcessApi Api { get; private set; } = null!;

    protected HttpClient Admin { get; private set; } = null!;

    protected NpgsqlDataSource Probe { get; private set; } = null!;

    protected string ConnectionString { get; private set; } = string.Empty;

    /// <summary>Extra settings for the API (command-line form), e.g. a gateway CA.</summary>
    protected virtual string[] ApiSettings() => [];

    public virtual async Task InitializeAsync()
    {
        var name = $"api_{GetType().Name.ToLowerInvariant()}_{Interlocked.Increment(ref s_databases)}";
        ConnectionString = await server.CreateDatabaseAsync(name);
        Api = await InProcessApi.StartAsync(ConnectionString, ApiSettings());
        Admin = Api.As("admin");
        Probe = NpgsqlDataSource.Create(ConnectionString + ";Pooling=false");
    }

    public virtual async Task DisposeAsync()
    {
        await Api.DisposeAsync();
        await Probe.DisposeAsync();
    }

    protected async Task CreateClinicAsync(string id, string name = "Clinic")
    {
        var response = await Admin.PostAsJsonAsync("/v1/clinics", new { id, name });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    protected async Task RegisterGatewayAsync(string id, string clinic)
    {
        var response = await Admin.PostAsJsonAsync("/v1/gateways", new { id, clinic_id = clinic, name = $"Gateway {id}" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    protected async Task RegisterDeviceAsync(string serial, string clinic, string? gateway = null)
    {
        var response = await Admin.PostAsJsonAsync("/v1/devices", new { serial, clinic_id = clinic, gateway_id = gateway });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The response body as JSON, after checking the status code (the body is in the failure message).</summary>
    protected static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body.Length == 0 ? "null" : body);
        return document.RootElement.Clone();
    }

    /// <summary>Asserts an RFC 7807 problem whose <c>errors</c> name <paramref name="parameter"/>.</summary>
    protected static async Task AssertBadParameterAsync(HttpResponseMessage response, string parameter)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), $"errors do not name {parameter}: {problem}");
        Assert.StartsWith(parameter + ":", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
