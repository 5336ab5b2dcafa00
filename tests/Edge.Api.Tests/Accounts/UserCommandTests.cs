using System.Net;
using Edge.Api.Accounts;
using Edge.Testing;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Accounts;

/// <summary><c>edge-api user add</c>: the first admin, made on the server from the API's configuration, signs in.</summary>
[Collection(PostgresServer.Collection)]
public sealed class UserCommandTests(PostgresServer server) : AccountTest(server)
{
    private static readonly string SigningKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private string[] Settings =>
        [$"--Stores:Oxygen={ConnectionString}", $"--Stores:Cpap={ConnectionString}", $"--Stores:Ecg={ConnectionString}", $"--Api:Auth:SigningKey={SigningKey}"];

    [Fact]
    public async Task The_first_admin_is_created_from_a_password_file_and_signs_in()
    {
        using var directory = new TempDirectory();
        var file = directory.File("admin.pw");
        await File.WriteAllTextAsync(file, "the first admin password\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (output, error) = (new StringWriter(), new StringWriter());

        var exit = await UserCommand.RunAsync(["add", "--username", "Admin", "--role", "admin", "--password-file", file], TextReader.Null, output, error, Settings);

        Assert.True(exit == 0, error.ToString());
        Assert.StartsWith("Created user admin (", output.ToString(), StringComparison.Ordinal);
        var tokens = await SignedInAsync("admin", "the first admin password");
        var admin = ClientOf(tokens);
        await ReadAsync(await admin.GetAsync("/v1/users"), HttpStatusCode.OK);
        var created = Assert.Single(await AuditAsync("user.create"));
        Assert.Contains("\"created_by\": \"edge-api user add\"", created.After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_weak_password_a_readable_file_a_taken_name_and_a_missing_password_source_are_refused()
    {
        using var directory = new TempDirectory();
        var readable = directory.File("readable.pw");
        await File.WriteAllTextAsync(readable, "a long enough password");
        File.SetUnixFileMode(readable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        await CreateUserAsync("taken", "clinician", ["north"]);

        async Task<(int Exit, string Error)> Run(string stdin, params string[] args)
        {
            var error = new StringWriter();
            var exit = await UserCommand.RunAsync(args, new StringReader(stdin), TextWriter.Null, error, Settings);
            return (exit, error.ToString());
        }

        var weak = await Run("short", "add", "--username", "weak", "--role", "admin", "--password-stdin");
        var world = await Run("", "add", "--username", "world", "--role", "admin", "--password-file", readable);
        var taken = await Run("a long enough password", "add", "--username", "TAKEN", "--role", "clinician", "--clinic", "north", "--password-stdin");
        var clinic = await Run("a long enough password", "add", "--username", "lost", "--role", "clinician", "--clinic", "nowhere", "--password-stdin");
        var none = await Run("", "add", "--username", "nopw", "--role", "admin");
        var gateway = await Run("a long enough password", "add", "--username", "gw", "--role", "gateway", "--password-stdin");

        Assert.Equal((1, true), (weak.Exit, weak.Error.Contains("password: must be 12 to 128 characters", StringComparison.Ordinal)));
        Assert.Equal((1, true), (world.Exit, world.Error.Contains("chmod 600", StringComparison.Ordinal)));
        Assert.Equal((1, true), (taken.Exit, taken.Error.Contains("taken", StringComparison.Ordinal)));
        Assert.Equal((1, true), (clinic.Exit, clinic.Error.Contains("clinics: no clinic nowhere", StringComparison.Ordinal)));
        Assert.Equal(2, none.Exit);
        Assert.Equal((1, true), (gateway.Exit, gateway.Error.Contains("roles:", StringComparison.Ordinal)));
        var users = await ReadAsync(await Admin.GetAsync("/v1/users"), HttpStatusCode.OK);
        Assert.Single(users.GetProperty("items").EnumerateArray());
    }
}
