using System.CommandLine;
using System.Text.Json;
using Edge.Cli.Cloud;
using Edge.Cli.Terminal;
using Edge.Contracts.Security;

namespace Edge.Cli.Users;

/// <summary>
/// <c>edgectl cloud user …</c>: the API's local accounts (admins only): list, show, add, update, disable, enable,
/// password, unlock. A user is named by username or id. Passwords come from a 0600 file or standard input, never the
/// command line (where <c>ps</c> and shell history keep them).
/// </summary>
internal static class CloudUserCommand
{
    static readonly string[] Roles = ["admin", "technician", "clinician", "auditor"];

    public static Command Create(Option<string?> api, TimeProvider time) => new(
        "user",
        "Manage the API's local user accounts (admins only; with an identity provider, manage users there).\n" +
        "Example: edgectl cloud user add --username dr.ng --display-name \"Dr Ng\" --role clinician --clinic north --password-stdin")
    {
        CreateList(api, time),
        CreateShow(api, time),
        CreateAdd(api, time),
        CreateUpdate(api, time),
        CreateSetDisabled(api, time, disable: true),
        CreateSetDisabled(api, time, disable: false),
        CreatePassword(api, time),
        CreateUnlock(api, time),
    };

    static Command CreateList(Option<string?> api, TimeProvider time)
    {
        var clinic = new Option<string?>("--clinic") { Description = "Only users of this clinic.", HelpName = "id" };
        var role = RoleOption("--role", "Only users holding this role.");
        var disabled = new Option<bool>("--disabled") { Description = "Only disabled users." };
        var enabled = new Option<bool>("--enabled") { Description = "Only enabled users." };
        var limit = CliOptions.Int32("--limit", "Most users to list, by username.", defaultValue: 500, min: 1, max: 100_000);
        var json = new Option<bool>("--json") { Description = "Print the users as a JSON array (the API's items)." };
        var command = new Command("list", "List users by username: roles, clinics, state.\nExample: edgectl cloud user list --clinic north --role clinician")
        {
            clinic, role, disabled, enabled, limit, json,
        };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(disabled) && parseResult.GetValue(enabled))
            {
                throw new EdgectlException("--disabled and --enabled exclude each other.", ExitCodes.Usage);
            }
            var state = parseResult.GetValue(disabled) ? "true" : parseResult.GetValue(enabled) ? "false" : null;
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var filters = string.Concat(ApiClient.Filter("clinic", parseResult.GetValue(clinic)), ApiClient.Filter("role", parseResult.GetValue(role)), ApiClient.Filter("disabled", state));
            var users = await client.GetPagesAsync("v1/users", filters, parseResult.GetValue(limit), CloudJsonContext.Default.CloudPageCloudUser, "list users", cancellationToken);

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(users.ToArray(), CloudJsonContext.Default.CloudUserArray));
                return ExitCodes.Ok;
            }
            if (users.Count == 0)
            {
                await output.WriteLineAsync("No users.");
                return ExitCodes.Ok;
            }
            var table = new TextTable("USERNAME", "NAME", "ROLES", "CLINICS", "STATE", "ID");
            foreach (var user in users)
            {
                table.Add(user.Username, user.DisplayName, string.Join(",", user.Roles), Clinics(user), State(user, time.GetUtcNow()), user.Id.ToString());
            }
            table.Write(output);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateShow(Option<string?> api, TimeProvider time)
    {
        var user = UserArgument();
        var json = new Option<bool>("--json") { Description = "Print the user as JSON (the API's answer)." };
        var command = new Command("show", "Show one user.\nExample: edgectl cloud user show dr.ng") { user, json };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var found = await FindAsync(client, parseResult.GetRequiredValue(user), cancellationToken);
            await WriteAsync(parseResult, found, json, time);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateAdd(Option<string?> api, TimeProvider time)
    {
        var username = new Option<string>("--username") { Description = "1-64 of a-z 0-9 . _ - @ (case-insensitive).", HelpName = "name", Required = true };
        var displayName = new Option<string?>("--display-name") { Description = "The name people see (default: the username).", HelpName = "text" };
        var roles = RolesOption(required: true);
        var clinics = ClinicsOption();
        var (passwordFile, passwordStdin) = PasswordOptions();
        var json = new Option<bool>("--json") { Description = "Print the new user as JSON." };
        var command = new Command(
            "add",
            "Create a user. Everyone but an admin needs at least one --clinic.\n" +
            "Example: edgectl cloud user add --username tech.lee --role technician --clinic north --password-file ./lee.pw")
        {
            username, displayName, roles, clinics, passwordFile, passwordStdin, json,
        };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var password = await ReadPasswordAsync(parseResult, passwordFile, passwordStdin, cancellationToken);
            var name = parseResult.GetRequiredValue(username);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var body = new CreateUserBody(name, parseResult.GetValue(displayName) ?? name, password, parseResult.GetValue(roles) ?? [], parseResult.GetValue(clinics) ?? []);
            var created = await client.PostAsync("v1/users", body, CloudJsonContext.Default.CreateUserBody, CloudJsonContext.Default.CloudUser, $"create user {name}", cancellationToken);
            await WriteAsync(parseResult, created, json, time, "Created");
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateUpdate(Option<string?> api, TimeProvider time)
    {
        var user = UserArgument();
        var displayName = new Option<string?>("--display-name") { Description = "A new display name.", HelpName = "text" };
        var roles = RolesOption(required: false);
        var clinics = ClinicsOption();
        var json = new Option<bool>("--json") { Description = "Print the changed user as JSON." };
        var command = new Command(
            "update",
            "Change a user's display name, roles or clinics (each given replaces the old; roles and clinics end the user's sign-ins).\n" +
            "Example: edgectl cloud user update dr.ng --clinic north --clinic south")
        {
            user, displayName, roles, clinics, json,
        };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var body = new UpdateUserBody(parseResult.GetValue(displayName), NullIfEmpty(parseResult.GetValue(roles)), NullIfEmpty(parseResult.GetValue(clinics)), null);
            if (body is { DisplayName: null, Roles: null, Clinics: null })
            {
                throw new EdgectlException("nothing to change: give --display-name, --role or --clinic.", ExitCodes.Usage);
            }
            return await PatchAsync(parseResult, api, time, user, body, json, "Updated", cancellationToken);
        });
        return command;
    }

    static Command CreateSetDisabled(Option<string?> api, TimeProvider time, bool disable)
    {
        var user = UserArgument();
        var json = new Option<bool>("--json") { Description = "Print the changed user as JSON." };
        var command = disable
            ? new Command("disable", "Disable a user: no sign-in, and their sign-ins end (an access token lasts its last minutes).\nExample: edgectl cloud user disable leaver") { user, json }
            : new Command("enable", "Enable a disabled user again.\nExample: edgectl cloud user enable dr.ng") { user, json };
        command.SetGuardedAction((parseResult, cancellationToken) =>
            PatchAsync(parseResult, api, time, user, new UpdateUserBody(null, null, null, disable), json, disable ? "Disabled" : "Enabled", cancellationToken));
        return command;
    }

    static Command CreatePassword(Option<string?> api, TimeProvider time)
    {
        var user = UserArgument();
        var (passwordFile, passwordStdin) = PasswordOptions();
        var command = new Command(
            "password",
            "Set a user's password (12-128 characters, not the username); clears a lockout and ends their sign-ins.\n" +
            "Example: edgectl cloud user password dr.ng --password-stdin < ./new.pw")
        {
            user, passwordFile, passwordStdin,
        };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var password = await ReadPasswordAsync(parseResult, passwordFile, passwordStdin, cancellationToken);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var found = await FindAsync(client, parseResult.GetRequiredValue(user), cancellationToken);
            await client.PostNoContentAsync($"v1/users/{found.Id}/password", new SetPasswordBody(password), CloudJsonContext.Default.SetPasswordBody,
                $"set the password of {found.Username}", cancellationToken);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync($"Password of {found.Username} set; their sign-ins ended.");
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateUnlock(Option<string?> api, TimeProvider time)
    {
        var user = UserArgument();
        var json = new Option<bool>("--json") { Description = "Print the user as JSON." };
        var command = new Command("unlock", "End a user's lockout after too many wrong passwords.\nExample: edgectl cloud user unlock dr.ng") { user, json };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var found = await FindAsync(client, parseResult.GetRequiredValue(user), cancellationToken);
            var unlocked = await client.PostAsync($"v1/users/{found.Id}/unlock", CloudJsonContext.Default.CloudUser, $"unlock {found.Username}", cancellationToken);
            await WriteAsync(parseResult, unlocked, json, time, "Unlocked");
            return ExitCodes.Ok;
        });
        return command;
    }

    static async Task<int> PatchAsync(
        ParseResult parseResult, Option<string?> api, TimeProvider time, Argument<string> user, UpdateUserBody body, Option<bool> json, string verb, CancellationToken cancellationToken)
    {
        using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
        var found = await FindAsync(client, parseResult.GetRequiredValue(user), cancellationToken);
        var changed = await client.PatchAsync($"v1/users/{found.Id}", body, CloudJsonContext.Default.UpdateUserBody, CloudJsonContext.Default.CloudUser,
            $"change user {found.Username}", cancellationToken);
        await WriteAsync(parseResult, changed, json, time, verb);
        return ExitCodes.Ok;
    }

    /// <summary>The user named by id or username; a name no user has is exit code 4.</summary>
    static async Task<CloudUser> FindAsync(ApiClient client, string user, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(user, out var id))
        {
            return await client.GetAsync($"v1/users/{id}", CloudJsonContext.Default.CloudUser, $"read user {id}", cancellationToken);
        }
        var page = await client.GetAsync($"v1/users?limit=1{ApiClient.Filter("username", user)}", CloudJsonContext.Default.CloudPageCloudUser, $"find user {user}", cancellationToken);
        return page.Items.Count == 1 ? page.Items[0] : throw new EdgectlException($"no user {user}; 'edgectl cloud user list' shows them.", ExitCodes.Refused);
    }

    static async Task WriteAsync(ParseResult parseResult, CloudUser user, Option<bool> json, TimeProvider time, string? verb = null)
    {
        var output = parseResult.InvocationConfiguration.Output;
        if (parseResult.GetValue(json))
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(user, CloudJsonContext.Default.CloudUser));
            return;
        }
        if (verb is not null)
        {
            await output.WriteLineAsync($"{verb} {user.Username}.");
        }
        await output.WriteLineAsync($"Username:     {user.Username}");
        await output.WriteLineAsync($"Id:           {user.Id}");
        await output.WriteLineAsync($"Display name: {user.DisplayName}");
        await output.WriteLineAsync($"Roles:        {string.Join(", ", user.Roles)}");
        await output.WriteLineAsync($"Clinics:      {Clinics(user)}");
        await output.WriteLineAsync($"State:        {State(user, time.GetUtcNow())}{(user.FailedAttempts > 0 ? $" ({user.FailedAttempts} wrong passwords in a row)" : "")}");
        await output.WriteLineAsync($"Created:      {Units.Utc(user.CreatedAt)} by {user.CreatedBy}");
        await output.WriteLineAsync($"Updated:      {Units.Utc(user.UpdatedAt)} by {user.UpdatedBy}");
    }

    static async Task<string> ReadPasswordAsync(ParseResult parseResult, Option<string?> file, Option<bool> stdin, CancellationToken cancellationToken)
    {
        var path = parseResult.GetValue(file);
        if (parseResult.GetValue(stdin) == (path is not null))
        {
            throw new EdgectlException("give exactly one of --password-file FILE (mode 0600) and --password-stdin.", ExitCodes.Usage);
        }
        try
        {
            var password = path is not null ? OwnerOnlyFile.ReadSecret(path, "--password-file", minimumLength: 1) : (await Console.In.ReadToEndAsync(cancellationToken)).Trim();
            return password.Length > 0 ? password : throw new EdgectlException("the password is empty.", ExitCodes.Usage);
        }
        catch (InvalidOperationException ex)
        {
            throw new EdgectlException(ex.Message, ExitCodes.Usage, ex);
        }
    }

    static (Option<string?> File, Option<bool> Stdin) PasswordOptions() => (
        new Option<string?>("--password-file") { Description = "Read the password from this file (mode 0600; surrounding whitespace is ignored).", HelpName = "file" },
        new Option<bool>("--password-stdin") { Description = "Read the password from standard input." });

    static Argument<string> UserArgument() => new("user") { Description = "The user's username or id." };

    static Option<string?> RoleOption(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "role" };
        option.AcceptOnlyFromAmong(Roles);
        return option;
    }

    static Option<string[]> RolesOption(bool required)
    {
        var option = new Option<string[]>("--role") { Description = "A role (admin, technician, clinician, auditor); repeat for more.", HelpName = "role", Required = required };
        option.AcceptOnlyFromAmong(Roles);
        return option;
    }

    static Option<string[]> ClinicsOption() => new("--clinic") { Description = "A clinic whose devices the user may see; repeat for more.", HelpName = "id" };

    static string[]? NullIfEmpty(string[]? values) => values is { Length: > 0 } ? values : null;

    static string Clinics(CloudUser user) => user.Clinics.Length == 0 ? (user.Roles.Contains("admin") ? "all (admin)" : "-") : string.Join(",", user.Clinics);

    static string State(CloudUser user, DateTimeOffset now) =>
        user.Disabled ? "disabled" : user.LockedUntil is { } until && until > now ? $"locked until {Units.Utc(until)}" : "active";
}
