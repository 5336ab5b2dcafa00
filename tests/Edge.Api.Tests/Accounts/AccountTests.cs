using System.Net;
using System.Net.Http.Json;
using Edge.Testing.Postgres;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Edge.Api.Tests.Accounts;

/// <summary>Local accounts as the console uses them: sign in, refresh, sign out, who am I, and admins managing users.</summary>
[Collection(PostgresServer.Collection)]
public sealed class AccountTests(PostgresServer server) : AccountTest(server)
{
    [Fact]
    public async Task Sign_in_answers_the_contract_and_the_access_token_carries_the_users_claims()
    {
        var id = await CreateUserAsync("Dr.Shaw", "clinician", ["north", "south"]);

        var tokens = await SignedInAsync("DR.SHAW");

        Assert.Equal("Bearer", tokens.GetProperty("token_type").GetString());
        var expires = tokens.GetProperty("expires_at").GetDateTimeOffset();
        var refreshExpires = tokens.GetProperty("refresh_expires_at").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromHours(12) - TimeSpan.FromMinutes(15), refreshExpires - expires);
        var user = tokens.GetProperty("user");
        Assert.Equal(id, user.GetProperty("id").GetGuid());
        Assert.Equal("dr.shaw", user.GetProperty("username").GetString());
        Assert.Equal("User Dr.Shaw", user.GetProperty("display_name").GetString());
        Assert.Equal(["clinician"], user.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!));
        Assert.Equal(["north", "south"], user.GetProperty("clinics").EnumerateArray().Select(r => r.GetString()!));

        var jwt = new JsonWebToken(tokens.GetProperty("access_token").GetString());
        Assert.Equal(id.ToString(), jwt.Subject);
        Assert.Equal("dr.shaw", jwt.Claims.Single(c => c.Type == "name").Value);
        Assert.Equal(["north", "south"], jwt.Claims.Where(c => c.Type == "clinic").Select(c => c.Value).Order());
        Assert.Equal(expires, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));

        var me = await ReadAsync(await ClientOf(tokens).GetAsync("/v1/me"), HttpStatusCode.OK);
        Assert.Equal(id.ToString(), me.GetProperty("subject").GetString());
        Assert.Equal("dr.shaw", me.GetProperty("username").GetString());
        Assert.Equal("User Dr.Shaw", me.GetProperty("display_name").GetString());
        Assert.Single(await AuditAsync("auth.sign_in"));
    }

    [Fact]
    public async Task Me_answers_a_token_from_edge_api_token_without_account_names()
    {
        var me = await ReadAsync(await Api.As("technician", "north").GetAsync("/v1/me"), HttpStatusCode.OK);
        Assert.Equal("technician-user", me.GetProperty("subject").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, me.GetProperty("username").ValueKind);
        Assert.Equal(["technician"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!));
        Assert.Equal(["north"], me.GetProperty("clinics").EnumerateArray().Select(r => r.GetString()!));
    }

    [Fact]
    public async Task Refresh_rotates_the_refresh_token_and_keeps_the_sign_ins_end()
    {
        await CreateUserAsync("tech.rotate", "technician", ["north"]);
        var first = await SignedInAsync("tech.rotate");

        var second = await ReadAsync(await RefreshAsync(first.GetProperty("refresh_token").GetString()!), HttpStatusCode.OK);

        Assert.NotEqual(first.GetProperty("refresh_token").GetString(), second.GetProperty("refresh_token").GetString());
        Assert.Equal(first.GetProperty("refresh_expires_at").GetDateTimeOffset(), second.GetProperty("refresh_expires_at").GetDateTimeOffset());
        await ReadAsync(await ClientOf(second).GetAsync("/v1/devices"), HttpStatusCode.OK);
        var third = await ReadAsync(await RefreshAsync(second.GetProperty("refresh_token").GetString()!), HttpStatusCode.OK);
        Assert.Equal("tech.rotate", third.GetProperty("user").GetProperty("username").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync("not-a-token-anyone-was-given")).StatusCode);
    }

    [Fact]
    public async Task Sign_out_ends_the_sign_in_and_only_the_callers_own()
    {
        await CreateUserAsync("dr.out", "clinician", ["north"]);
        await CreateUserAsync("dr.other", "clinician", ["north"]);
        var mine = await SignedInAsync("dr.out");
        var theirs = await SignedInAsync("dr.other");

        // Someone else's refresh token is answered the same, and stays valid.
        Assert.Equal(HttpStatusCode.NoContent, (await ClientOf(mine).PostAsJsonAsync("/v1/auth/sign-out", new { refresh_token = theirs.GetProperty("refresh_token").GetString() })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await ClientOf(mine).PostAsJsonAsync("/v1/auth/sign-out", new { refresh_token = mine.GetProperty("refresh_token").GetString() })).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(mine.GetProperty("refresh_token").GetString()!)).StatusCode);
        await ReadAsync(await RefreshAsync(theirs.GetProperty("refresh_token").GetString()!), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_user_changes_their_own_password_with_the_current_one_and_their_sign_ins_end()
    {
        await CreateUserAsync("self.service", "auditor", ["north"]);
        var tokens = await SignedInAsync("self.service");
        var client = ClientOf(tokens);

        await AssertBadParameterAsync(
            await client.PostAsJsonAsync("/v1/me/password", new { current_password = "not my password!", new_password = "a new long password" }), "current_password");
        await AssertBadParameterAsync(await client.PostAsJsonAsync("/v1/me/password", new { current_password = Password, new_password = "short" }), "new_password");
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/v1/me/password", new { current_password = Password, new_password = "a new long password" })).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(tokens.GetProperty("refresh_token").GetString()!)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync("self.service")).StatusCode);
        await SignedInAsync("self.service", "a new long password");
        // A token that is not an account's has no password here.
        Assert.Equal(HttpStatusCode.NotFound, (await Api.As("clinician", "north").PostAsJsonAsync("/v1/me/password",
            new { current_password = Password, new_password = "a new long password" })).StatusCode);
    }

    [Fact]
    public async Task Creating_a_user_refuses_each_bad_field_by_name()
    {
        object Body(string username = "valid.name", string password = "long enough password", string[]? roles = null, string[]? clinics = null) =>
            new { username, display_name = "Someone", password, roles = roles ?? ["clinician"], clinics = clinics ?? ["north"] };

        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(username: "has space")), "username");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(username: new string('a', 65))), "username");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(password: "eleven char")), "password");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(password: new string('p', 129))), "password");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(username: "samepassword1", password: "SamePassword1")), "password");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(roles: ["gateway"])), "roles");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(roles: [])), "roles");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(clinics: [])), "clinics");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/users", Body(clinics: ["nowhere"])), "clinics");

        // Admins need no clinic; a username is taken whatever its case.
        await ReadAsync(await Admin.PostAsJsonAsync("/v1/users", Body(username: "Boss", roles: ["admin"], clinics: [])), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Conflict, (await Admin.PostAsJsonAsync("/v1/users", Body(username: "BOSS"))).StatusCode);
        Assert.Single(await AuditAsync("user.create"));
    }

    [Fact]
    public async Task Users_are_listed_in_pages_and_filtered_by_clinic_role_and_disabled()
    {
        await CreateUserAsync("a.north", "clinician", ["north"]);
        await CreateUserAsync("b.south", "clinician", ["south"]);
        var c = await CreateUserAsync("c.north", "technician", ["north"]);
        await ReadAsync(await Admin.PatchAsJsonAsync($"/v1/users/{c}", new { disabled = true, display_name = "Gone" }), HttpStatusCode.OK);

        var first = await ReadAsync(await Admin.GetAsync("/v1/users?limit=2"), HttpStatusCode.OK);
        Assert.Equal(["a.north", "b.south"], first.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("username").GetString()!));
        var second = await ReadAsync(await Admin.GetAsync($"/v1/users?limit=2&cursor={first.GetProperty("next_cursor").GetString()}"), HttpStatusCode.OK);
        Assert.Equal(["c.north"], second.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("username").GetString()!));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);

        async Task<string[]> Names(string query) =>
            [.. (await ReadAsync(await Admin.GetAsync($"/v1/users?{query}"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(u => u.GetProperty("username").GetString()!)];
        Assert.Equal(["a.north", "c.north"], await Names("clinic=north"));
        Assert.Equal(["c.north"], await Names("role=technician"));
        Assert.Equal(["a.north", "b.south"], await Names("disabled=false"));
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/users?role=gateway"), "role");
        var gone = await ReadAsync(await Admin.GetAsync($"/v1/users/{c}"), HttpStatusCode.OK);
        Assert.Equal("Gone", gone.GetProperty("display_name").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/v1/users/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task An_admin_account_cannot_disable_itself_or_drop_its_own_admin_role()
    {
        var id = await CreateUserAsync("the.admin", "admin", []);
        var admin = ClientOf(await SignedInAsync("the.admin"));

        Assert.Equal(HttpStatusCode.Conflict, (await admin.PatchAsJsonAsync($"/v1/users/{id}", new { disabled = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PatchAsJsonAsync($"/v1/users/{id}", new { roles = new[] { "auditor" }, clinics = new[] { "north" } })).StatusCode);
        await ReadAsync(await admin.PatchAsJsonAsync($"/v1/users/{id}", new { display_name = "Still Admin" }), HttpStatusCode.OK);
        var created = await admin.PostAsJsonAsync("/v1/users", new { username = "by.account", display_name = "New", password = "long enough password", roles = new[] { "clinician" }, clinics = new[] { "north" } });
        var user = await ReadAsync(created, HttpStatusCode.Created);
        Assert.Equal(id.ToString(), user.GetProperty("created_by").GetString());
    }
}
