using System.Text.Json;
using Edge.Testing.Postgres;

namespace Edge.Cli.Tests.Cloud;

/// <summary><c>edgectl login|logout</c> and how every cloud command finds (or misses) its API and token.</summary>
[Collection(PostgresServer.Collection)]
public sealed class LoginTests(PostgresServer server) : CloudTest(server)
{
    [Fact]
    public async Task Login_checks_the_token_and_stores_it_owner_only_for_later_commands()
    {
        var edgectl = Edgectl;

        var login = await edgectl.RunWithInputAsync(Api.Token("technician", "north") + "\n", "login", "--api", ApiUrl, "--token-stdin", "--json");

        Assert.True(login.ExitCode == ExitCodes.Ok, login.Error);
        var result = JsonDocument.Parse(login.Output).RootElement;
        var file = Path.Combine(edgectl.ConfigHome, "edgectl", "credentials.json");
        Assert.Equal(file, result.GetProperty("config_file").GetString());
        Assert.Equal(["north"], result.GetProperty("clinics").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file)!));

        // The stored login serves the next command without --api.
        var list = await edgectl.RunAsync("device", "list", "--json");
        Assert.True(list.ExitCode == ExitCodes.Ok, list.Error);
        Assert.Equal("[]", list.Output.Trim());

        var logout = await edgectl.RunAsync("logout");
        Assert.Equal(ExitCodes.Ok, logout.ExitCode);
        Assert.False(File.Exists(file));
        var after = await edgectl.RunAsync("device", "list");
        Assert.Equal(ExitCodes.Unauthenticated, after.ExitCode);
        Assert.Contains("not logged in", after.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_the_api_refuses_is_not_stored_and_the_401_is_named()
    {
        var edgectl = Edgectl;

        var login = await edgectl.RunWithInputAsync("not-a-jwt\n", "login", "--api", ApiUrl, "--token-stdin");

        Assert.Equal(ExitCodes.Unauthenticated, login.ExitCode);
        Assert.Contains("refused the token (401 Unauthorized", login.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(edgectl.ConfigHome, "edgectl", "credentials.json")));
    }

    [Fact]
    public async Task Environment_overrides_the_stored_login_and_a_403_is_named()
    {
        var edgectl = Edgectl;
        Assert.Equal(ExitCodes.Ok, (await edgectl.RunWithInputAsync(Api.Token("technician", "north"), "login", "--api", ApiUrl, "--token-stdin")).ExitCode);

        // An auditor's token in EDGE_TOKEN wins over the stored technician's: retiring is refused with 403.
        var retire = await edgectl.With("EDGE_TOKEN", Api.Token("auditor", "north")).RunAsync("device", "retire", "--serial", "OXY-8844-5521");

        Assert.Equal(ExitCodes.Forbidden, retire.ExitCode);
        Assert.Contains("403 Forbidden", retire.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_login_an_api_that_is_down_and_a_bad_url_each_say_so()
    {
        var none = await Edgectl.RunAsync("device", "show", "--serial", "OXY-8844-5521");
        Assert.Equal(ExitCodes.Unauthenticated, none.ExitCode);
        Assert.Equal("edgectl: not logged in: no API given. Run 'edgectl login --api URL', or pass --api and set EDGE_TOKEN.\n", none.Error);

        var down = await Edgectl.With("EDGE_TOKEN", "x").RunAsync("device", "show", "--serial", "OXY-8844-5521", "--api", $"http://127.0.0.1:{FreePort.Next()}");
        Assert.Equal(ExitCodes.Unreachable, down.ExitCode);
        Assert.StartsWith("edgectl: cannot reach the API at http://127.0.0.1:", down.Error, StringComparison.Ordinal);

        var badUrl = await Edgectl.RunAsync("device", "list", "--api", "ftp://example");
        Assert.Equal(ExitCodes.Usage, badUrl.ExitCode);
        Assert.Contains("--api: 'ftp://example' is not an http:// or https:// URL.", badUrl.Error, StringComparison.Ordinal);

        var noTerminal = await Edgectl.RunAsync("login", "--api", ApiUrl);
        Assert.Equal(ExitCodes.Usage, noTerminal.ExitCode);
        Assert.Contains("--token-stdin", noTerminal.Error, StringComparison.Ordinal);
    }
}
