using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Cli.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Cli.Tests.Cloud;

/// <summary><c>edgectl cloud user …</c> against the real API: an admin runs an account's whole life; others are refused.</summary>
[Collection(PostgresServer.Collection)]
public sealed class UserCommandTests(PostgresServer server) : CloudTest(server)
{
    const string Password = "a password long enough";

    EdgectlProcess Admin => Edgectl.With("EDGE_API_URL", ApiUrl).With("EDGE_TOKEN", Api.Token("admin"));

    async Task<HttpStatusCode> SignInAsync(string username, string password)
    {
        using var client = new HttpClient { BaseAddress = Api.BaseAddress };
        using var response = await client.PostAsJsonAsync("/v1/auth/token", new { username, password });
        return response.StatusCode;
    }

    [Fact]
    public async Task An_admin_adds_lists_changes_disables_enables_resets_and_unlocks_a_user()
    {
        var add = await Admin.RunWithInputAsync(Password + "\n", "cloud", "user", "add", "--username", "dr.ng", "--display-name", "Dr Ng",
            "--role", "clinician", "--clinic", "north", "--password-stdin");
        Assert.True(add.ExitCode == ExitCodes.Ok, add.Error);
        Assert.Contains("Created dr.ng.", add.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await SignInAsync("dr.ng", Password));

        var list = await Admin.RunAsync("cloud", "user", "list", "--clinic", "north");
        Assert.True(list.ExitCode == ExitCodes.Ok, list.Error);
        Assert.Matches(@"dr\.ng\s+Dr Ng\s+clinician\s+north\s+active", list.Output);

        var update = await Admin.RunAsync("cloud", "user", "update", "dr.ng", "--role", "technician", "--json");
        Assert.True(update.ExitCode == ExitCodes.Ok, update.Error);
        Assert.Equal("technician", JsonDocument.Parse(update.Output).RootElement.GetProperty("roles")[0].GetString());

        Assert.Equal(ExitCodes.Ok, (await Admin.RunAsync("cloud", "user", "disable", "dr.ng")).ExitCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync("dr.ng", Password));
        var show = await Admin.RunAsync("cloud", "user", "show", "DR.NG");
        Assert.Contains("State:        disabled", show.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, (await Admin.RunAsync("cloud", "user", "enable", "dr.ng")).ExitCode);

        for (var attempt = 0; attempt < 5; attempt++)
        {
            await SignInAsync("dr.ng", "wrong password here");
        }
        Assert.Contains("locked until", (await Admin.RunAsync("cloud", "user", "show", "dr.ng")).Output, StringComparison.Ordinal);
        var unlock = await Admin.RunAsync("cloud", "user", "unlock", "dr.ng");
        Assert.True(unlock.ExitCode == ExitCodes.Ok, unlock.Error);
        Assert.Equal(HttpStatusCode.OK, await SignInAsync("dr.ng", Password));

        var file = Home.File("new.pw");
        await File.WriteAllTextAsync(file, "the brand new password");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var password = await Admin.RunAsync("cloud", "user", "password", "dr.ng", "--password-file", file);
        Assert.True(password.ExitCode == ExitCodes.Ok, password.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync("dr.ng", Password));
        Assert.Equal(HttpStatusCode.OK, await SignInAsync("dr.ng", "the brand new password"));
    }

    [Fact]
    public async Task Refusals_name_the_problem_and_a_technician_is_forbidden()
    {
        var technician = await Technician.RunWithInputAsync(Password, "cloud", "user", "add", "--username", "x.y", "--role", "admin", "--password-stdin");
        var noPassword = await Admin.RunAsync("cloud", "user", "add", "--username", "x.y", "--role", "clinician", "--clinic", "north");
        var weak = await Admin.RunWithInputAsync("short", "cloud", "user", "add", "--username", "x.y", "--role", "clinician", "--clinic", "north", "--password-stdin");
        var badRole = await Admin.RunWithInputAsync(Password, "cloud", "user", "add", "--username", "x.y", "--role", "gateway", "--password-stdin");
        var unknown = await Admin.RunAsync("cloud", "user", "show", "nobody");

        Assert.Equal(ExitCodes.Forbidden, technician.ExitCode);
        Assert.Equal(ExitCodes.Usage, noPassword.ExitCode);
        Assert.Contains("--password-file", noPassword.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Refused, weak.ExitCode);
        Assert.Contains("password: must be 12 to 128 characters", weak.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, badRole.ExitCode);
        Assert.Equal(ExitCodes.Refused, unknown.ExitCode);
        Assert.Contains("no user nobody", unknown.Error, StringComparison.Ordinal);
    }
}
