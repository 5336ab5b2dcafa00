using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Accounts;

/// <summary>Base of the account tests: two clinics, and helpers that create accounts as an admin and sign them in.</summary>
public abstract class AccountTest(PostgresServer server) : ApiTest(server)
{
    protected const string Password = "correct horse battery";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
    }

    /// <summary>Creates an account through the admin API and returns its id.</summary>
    protected async Task<Guid> CreateUserAsync(string username, string role, string[] clinics, string password = Password)
    {
        var response = await Admin.PostAsJsonAsync("/v1/users", new { username, display_name = $"User {username}", password, roles = new[] { role }, clinics });
        var user = await ReadAsync(response, HttpStatusCode.Created);
        return user.GetProperty("id").GetGuid();
    }

    protected Task<HttpResponseMessage> SignInAsync(string username, string password = Password) =>
        Api.Client(null).PostAsJsonAsync("/v1/auth/token", new { username, password });

    /// <summary>Signs in and returns the token response (the sign-in must succeed).</summary>
    protected async Task<JsonElement> SignedInAsync(string username, string password = Password) =>
        await ReadAsync(await SignInAsync(username, password), HttpStatusCode.OK);

    protected Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        Api.Client(null).PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = refreshToken });

    /// <summary>A client sending the access token of a sign-in or refresh answer.</summary>
    protected HttpClient ClientOf(JsonElement tokens) => Api.Client(tokens.GetProperty("access_token").GetString());

    /// <summary>The audit rows of <paramref name="action"/>, oldest first, as (target_id, after JSON).</summary>
    protected async Task<List<(string Target, string? After)>> AuditAsync(string action)
    {
        await using var command = Probe.CreateCommand("SELECT target_id, after::text FROM audit_log WHERE action = $1 ORDER BY id");
        command.Parameters.AddWithValue(action);
        var rows = new List<(string, string?)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        }
        return rows;
    }
}
