using System.Net;
using System.Net.Http.Json;
using Edge.Testing.Api;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Accounts;

/// <summary>
/// Around the lockout: a guesser spreading guesses over many usernames from one address meets the per-address rate
/// limit; and with an identity provider configured, no password is accepted here at all.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class SignInLimitTests(PostgresServer server) : AccountTest(server)
{
    private readonly PostgresServer _server = server;

    protected override string[] ApiSettings() => ["--Api:RateLimit:AddressPermitLimit=4", "--Api:RateLimit:WindowSeconds=600"];

    [Fact]
    public async Task Sign_in_attempts_from_one_address_stop_at_the_address_limit_whatever_the_username()
    {
        await CreateUserAsync("real.user", "clinician", ["north"]);
        var statuses = new List<HttpStatusCode>();
        foreach (var username in new[] { "alice", "bob", "carol", "dave", "real.user" })
        {
            statuses.Add((await SignInAsync(username)).StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 4), HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await RefreshAsync("anything-at-all")).StatusCode);
    }

    [Fact]
    public async Task With_an_identity_provider_the_account_endpoints_answer_404()
    {
        var connection = await _server.CreateDatabaseAsync($"api_accounts_oidc_{Guid.NewGuid():N}");
        await using var api = await InProcessApi.StartAsync(connection, "--Api:Auth:SigningKey=", "--Api:Auth:Authority=https://127.0.0.1:1/idp");
        var anonymous = api.Client(null);

        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.PostAsJsonAsync("/v1/auth/token", new { username = "admin", password = Password })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = "anything" })).StatusCode);
    }
}
