using System.Net;
using System.Net.Http.Json;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Accounts;

/// <summary>
/// Attacks on local accounts as an attacker would run them over HTTP: guessing a password, telling which usernames
/// exist, replaying a stolen refresh token, using a disabled account's session, a technician granting themselves more,
/// and a clinic's user reaching another clinic's devices with a signed-in token.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class AccountAttackTests(PostgresServer server) : AccountTest(server)
{
    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_and_then_even_the_right_password_is_refused()
    {
        var id = await CreateUserAsync("nurse.kim", "clinician", ["north"]);

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync("nurse.kim", $"guess number {attempt:D4}")).StatusCode);
        }
        // Locked: the guesser who finally hits the password learns nothing and gets nothing.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync("nurse.kim")).StatusCode);

        var user = await ReadAsync(await Admin.GetAsync($"/v1/users/{id}"), HttpStatusCode.OK);
        Assert.Equal(System.Text.Json.JsonValueKind.String, user.GetProperty("locked_until").ValueKind);
        Assert.Single(await AuditAsync("auth.lockout"));
        var refused = await AuditAsync("auth.sign_in_refused");
        Assert.Equal(6, refused.Count);
        Assert.Contains("\"outcome\": \"locked\"", refused[^1].After, StringComparison.Ordinal);

        // An admin unlocks; the right password signs in again and the count starts over.
        await ReadAsync(await Admin.PostAsync($"/v1/users/{id}/unlock", null), HttpStatusCode.OK);
        await SignedInAsync("nurse.kim");
    }

    [Fact]
    public async Task Four_attempts_below_the_limit_do_not_lock_and_a_success_resets_the_count()
    {
        await CreateUserAsync("tech.lee", "technician", ["north"]);
        for (var round = 0; round < 2; round++)
        {
            for (var attempt = 0; attempt < 4; attempt++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync("tech.lee", "not the password at all")).StatusCode);
            }
            await SignedInAsync("tech.lee");
        }
        Assert.Empty(await AuditAsync("auth.lockout"));
    }

    [Fact]
    public async Task Unknown_users_wrong_passwords_disabled_and_locked_accounts_get_the_same_401_and_the_audit_log_says_which()
    {
        await CreateUserAsync("wrong.pw", "clinician", ["north"]);
        var disabled = await CreateUserAsync("gone.user", "clinician", ["north"]);
        await ReadAsync(await Admin.PatchAsJsonAsync($"/v1/users/{disabled}", new { disabled = true }), HttpStatusCode.OK);
        await CreateUserAsync("locked.user", "clinician", ["north"]);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await SignInAsync("locked.user", "a wrong password here");
        }

        var answers = new List<(HttpStatusCode, string, string?)>();
        foreach (var (username, password) in new[] { ("no.such.user", Password), ("wrong.pw", "a wrong password here"), ("gone.user", Password), ("locked.user", Password) })
        {
            var response = await SignInAsync(username, password);
            answers.Add((response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.ToString()));
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Unauthorized, a.Item1));
        Assert.Single(answers.Select(a => a.Item2).Distinct());
        Assert.Single(answers.Select(a => a.Item3).Distinct());
        var reasons = (await AuditAsync("auth.sign_in_refused")).TakeLast(4).Select(r => r.After!).ToList();
        Assert.Contains("\"outcome\": \"unknown_user\"", reasons[0], StringComparison.Ordinal);
        Assert.Contains("\"outcome\": \"wrong_password\"", reasons[1], StringComparison.Ordinal);
        Assert.Contains("\"outcome\": \"disabled\"", reasons[2], StringComparison.Ordinal);
        Assert.Contains("\"outcome\": \"locked\"", reasons[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reused_refresh_token_revokes_the_whole_sign_in_and_only_that_one()
    {
        await CreateUserAsync("dr.ng", "clinician", ["north"]);
        var first = await SignedInAsync("dr.ng");
        var otherDevice = await SignedInAsync("dr.ng");
        var stolen = first.GetProperty("refresh_token").GetString()!;

        // The user refreshes; then the thief replays the stolen (now rotated) token.
        var rotated = await ReadAsync(await RefreshAsync(stolen), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(stolen)).StatusCode);

        // The whole sign-in ends: the user's newest token too, so whoever holds it must sign in again.
        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(rotated.GetProperty("refresh_token").GetString()!)).StatusCode);
        var reuse = Assert.Single(await AuditAsync("auth.refresh_reuse"));
        Assert.Contains("\"revoked_tokens\": 1", reuse.After, StringComparison.Ordinal);

        // Another sign-in of the same user is not touched.
        await ReadAsync(await RefreshAsync(otherDevice.GetProperty("refresh_token").GetString()!), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_disabled_users_refresh_token_and_password_stop_working()
    {
        var id = await CreateUserAsync("leaver", "technician", ["north"]);
        var tokens = await SignedInAsync("leaver");

        await ReadAsync(await Admin.PatchAsJsonAsync($"/v1/users/{id}", new { disabled = true }), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(tokens.GetProperty("refresh_token").GetString()!)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync("leaver")).StatusCode);
        await using var command = Probe.CreateCommand("SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL");
        command.Parameters.AddWithValue(id);
        Assert.Equal(0L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_technician_cannot_create_an_admin_or_change_their_own_roles_or_password_through_the_admin_endpoints()
    {
        var id = await CreateUserAsync("tech.ada", "technician", ["north"]);
        var technician = ClientOf(await SignedInAsync("tech.ada"));

        var create = await technician.PostAsJsonAsync("/v1/users",
            new { username = "my.admin", display_name = "Mine", password = "another long password", roles = new[] { "admin" }, clinics = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await technician.PatchAsJsonAsync($"/v1/users/{id}", new { roles = new[] { "admin" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await technician.PatchAsJsonAsync($"/v1/users/{id}", new { clinics = new[] { "north", "south" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await technician.PostAsJsonAsync($"/v1/users/{id}/password", new { password = "brand new password" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await technician.GetAsync("/v1/users")).StatusCode);

        var user = await ReadAsync(await Admin.GetAsync($"/v1/users/{id}"), HttpStatusCode.OK);
        Assert.Equal(["technician"], user.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!));
        Assert.Equal(["north"], user.GetProperty("clinics").EnumerateArray().Select(r => r.GetString()!));
        var list = await ReadAsync(await Admin.GetAsync("/v1/users"), HttpStatusCode.OK);
        Assert.Single(list.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_signed_in_clinician_of_north_never_reads_south()
    {
        await RegisterGatewayAsync("gw-south", "south");
        await RegisterDeviceAsync("OXY-5000-0001", "south", "gw-south");
        await RegisterGatewayAsync("gw-north", "north");
        await RegisterDeviceAsync("OXY-4000-0001", "north", "gw-north");
        await CreateUserAsync("dr.north", "clinician", ["north"]);
        var clinician = ClientOf(await SignedInAsync("dr.north"));

        Assert.Equal(HttpStatusCode.NotFound, (await clinician.GetAsync("/v1/devices/OXY-5000-0001")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clinician.GetAsync("/v1/devices/OXY-5000-0001/telemetry")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clinician.GetAsync("/v1/clinics/south")).StatusCode);
        var devices = await ReadAsync(await clinician.GetAsync("/v1/devices"), HttpStatusCode.OK);
        Assert.Equal(["OXY-4000-0001"], devices.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("serial").GetString()!));
    }

    [Fact]
    public async Task Changing_a_users_roles_or_clinics_or_password_ends_their_sign_ins()
    {
        var id = await CreateUserAsync("moving.tech", "technician", ["north"]);
        var changes = new object[]
        {
            new { roles = new[] { "clinician" } },
            new { clinics = new[] { "south" } },
        };
        foreach (var change in changes)
        {
            var tokens = await SignedInAsync("moving.tech");
            await ReadAsync(await Admin.PatchAsJsonAsync($"/v1/users/{id}", change), HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(tokens.GetProperty("refresh_token").GetString()!)).StatusCode);
        }
        var beforePassword = await SignedInAsync("moving.tech");
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.PostAsJsonAsync($"/v1/users/{id}/password", new { password = "a fresh long password" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RefreshAsync(beforePassword.GetProperty("refresh_token").GetString()!)).StatusCode);

        // The next sign-in carries what the admin set.
        var after = await SignedInAsync("moving.tech", "a fresh long password");
        var me = await ReadAsync(await ClientOf(after).GetAsync("/v1/me"), HttpStatusCode.OK);
        Assert.Equal(["clinician"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!));
        Assert.Equal(["south"], me.GetProperty("clinics").EnumerateArray().Select(r => r.GetString()!));
    }

    [Fact]
    public async Task No_password_or_hash_ever_reaches_the_audit_log()
    {
        var id = await CreateUserAsync("careful", "auditor", ["north"], "first secret password");
        await SignInAsync("careful", "wrong secret password");
        await SignedInAsync("careful", "first secret password");
        await Admin.PostAsJsonAsync($"/v1/users/{id}/password", new { password = "second secret password" });
        var tokens = await SignedInAsync("careful", "second secret password");
        await ClientOf(tokens).PostAsJsonAsync("/v1/me/password", new { current_password = "second secret password", new_password = "third secret password" });

        await using var command = Probe.CreateCommand("SELECT coalesce(string_agg(coalesce(before::text, '') || coalesce(after::text, '') || target_id, ' '), '') FROM audit_log");
        var audit = (string)(await command.ExecuteScalarAsync())!;
        await using var hashes = Probe.CreateCommand("SELECT password_hash FROM users");
        var hash = (string)(await hashes.ExecuteScalarAsync())!;
        Assert.Contains("careful", audit, StringComparison.Ordinal);
        foreach (var secret in new[] { "first secret", "second secret", "third secret", "wrong secret", hash, tokens.GetProperty("refresh_token").GetString()! })
        {
            Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
        }
    }
}
