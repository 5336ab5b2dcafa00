using System.Security.Claims;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Hosting;
using Edge.Contracts.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Edge.Api.Accounts;

/// <summary>
/// <c>edge-api user add --username NAME --role ROLE [--role …] [--clinic ID]… [--display-name TEXT]
/// (--password-file F | --password-stdin)</c>: creates a local account straight in the registry database named by the
/// API's own configuration, for the first admin of an install (after that, admins use <c>edgectl cloud user add</c>).
/// The password never goes on the command line, where <c>ps</c> and shell history would keep it.
/// </summary>
internal static class UserCommand
{
    /// <summary>The audit log's actor for accounts made on the server.</summary>
    public const string Actor = "edge-api user add";

    private const string Usage =
        "usage: edge-api user add --username NAME --role admin|technician|clinician|auditor [--role …] [--clinic ID]… [--display-name TEXT] (--password-file FILE | --password-stdin)";

    /// <param name="settings">Configuration on top of the API's own (command-line form); tests name their database here.</param>
    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error, params string[] settings)
    {
        if (args.Length == 0 || args[0] != "add")
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }
        string? username = null, displayName = null, passwordFile = null;
        var fromStdin = false;
        var roles = new List<string>();
        var clinics = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--password-stdin":
                    fromStdin = true;
                    continue;
                case "--username" when value is not null:
                    username = value;
                    break;
                case "--display-name" when value is not null:
                    displayName = value;
                    break;
                case "--role" when value is not null:
                    roles.Add(value);
                    break;
                case "--clinic" when value is not null:
                    clinics.Add(value);
                    break;
                case "--password-file" when value is not null:
                    passwordFile = value;
                    break;
                default:
                    await error.WriteLineAsync($"edge-api user add: '{args[i]}' is not valid here.");
                    await error.WriteLineAsync(Usage);
                    return 2;
            }
            i++;
        }
        if (fromStdin == (passwordFile is not null))
        {
            await error.WriteLineAsync("edge-api user add: give exactly one of --password-file FILE (mode 0600) and --password-stdin.");
            return 2;
        }

        string password;
        try
        {
            password = passwordFile is not null
                ? OwnerOnlyFile.ReadSecret(passwordFile, "--password-file", minimumLength: 1)
                : (await input.ReadToEndAsync()).Trim();
        }
        catch (InvalidOperationException failure)
        {
            await error.WriteLineAsync($"edge-api user add: {failure.Message}");
            return 1;
        }

        await using var app = ApiApplication.Build(settings);
        AuthOptions auth;
        try
        {
            auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        }
        catch (OptionsValidationException failure)
        {
            await error.WriteLineAsync($"edge-api user add: {failure.Message}");
            return 1;
        }
        if (!string.IsNullOrWhiteSpace(auth.Authority))
        {
            await error.WriteLineAsync("edge-api user add: Api:Auth:Authority is set, so accounts live in the identity provider; create the user there.");
            return 1;
        }
        var caller = new Caller(new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", Actor), new Claim(auth.RoleClaim, ApiRoles.Admin)])), auth);
        var request = new CreateUserRequest(username, displayName ?? username, password, [.. roles], [.. clinics]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            var (user, refusal) = await UserEndpoints.CreateAsync(request, caller, app.Services.GetRequiredService<AccountStore>(),
                app.Services.GetRequiredService<Passwords>(), app.Services.GetRequiredService<AuditTrail>(), app.Services.GetRequiredService<TimeProvider>(), timeout.Token);
            if (user is null)
            {
                await error.WriteLineAsync($"edge-api user add: {Describe(refusal!)}");
                return 1;
            }
            await output.WriteLineAsync($"Created user {user.Username} ({user.Id}): roles {string.Join(", ", user.Roles)}; clinics {(user.Clinics.Count == 0 ? "all (admin)" : string.Join(", ", user.Clinics))}.");
            return 0;
        }
        catch (Npgsql.PostgresException failure) when (failure.SqlState == Npgsql.PostgresErrorCodes.UndefinedTable)
        {
            await error.WriteLineAsync("edge-api user add: the registry has no users table yet; start the API once (it creates its tables), then run this again.");
            return 1;
        }
        catch (Exception failure) when (failure is Npgsql.NpgsqlException or OperationCanceledException or InvalidOperationException)
        {
            await error.WriteLineAsync($"edge-api user add: the registry database (Stores:Registry) failed: {failure.Message}");
            return 1;
        }
    }

    private static string Describe(IResult refusal) => refusal switch
    {
        ValidationProblem validation => string.Join("; ", validation.ProblemDetails.Errors.SelectMany(e => e.Value.Select(reason => $"{e.Key}: {reason}"))),
        ProblemHttpResult problem => problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title ?? "refused",
        _ => "refused",
    };
}
