using System.CommandLine;
using System.Text;
using System.Text.Json;
using Edge.Cli.Cloud;
using Edge.Cli.Terminal;

namespace Edge.Cli.Login;

/// <summary>
/// <c>edgectl login</c> and <c>logout</c>: a pasted bearer token (from <c>edge-api token</c> or the identity provider),
/// checked against the API before it is stored. There is no device-code flow: the API does not advertise its OIDC
/// authority to clients yet (docs/cli.md).
/// </summary>
internal static class LoginCommand
{
    public static Command CreateLogin(Option<string?> api, TimeProvider time)
    {
        var tokenStdin = new Option<bool>("--token-stdin") { Description = "Read the token from standard input (for scripts) instead of prompting for it." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: api_url, config_file and the clinics the token can see." };
        var command = new Command(
            "login",
            "Store the API URL and a bearer token (file mode 0600) for the cloud commands; the token is checked first.\n" +
            "Example: edge-api token --role technician --clinic north | edgectl login --api https://api.example --token-stdin")
        {
            tokenStdin,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var url = parseResult.GetValue(api) is { } option ? ApiOption.ParseUrl(option)!
                : Environment.GetEnvironmentVariable(ApiOption.UrlVariable) is { Length: > 0 } env
                    ? ApiOption.ParseUrl(env) ?? throw new EdgectlException($"{ApiOption.UrlVariable}: '{env}' is not an http:// or https:// URL.", ExitCodes.Usage)
                    : throw new EdgectlException($"--api is required: the URL of the cloud API (or set {ApiOption.UrlVariable}).", ExitCodes.Usage);
            var token = parseResult.GetValue(tokenStdin)
                ? await Console.In.ReadToEndAsync(cancellationToken)
                : ReadHidden(parseResult.InvocationConfiguration.Error);
            token = token.Trim();
            if (token.Length == 0)
            {
                throw new EdgectlException("the token is empty: paste the bearer token (for example from 'edge-api token --role technician').", ExitCodes.Usage);
            }

            if (token.Any(char.IsWhiteSpace) || token.Any(char.IsControl))
            {
                throw new EdgectlException("the token contains spaces or control characters: paste only the token itself.", ExitCodes.Usage);
            }

            // A token the API refuses is never stored: the technician learns now, not at the first real command.
            using var client = new ApiClient(new CloudSession(url, token));
            var clinics = await client.GetAsync("v1/clinics?limit=500", CloudJsonContext.Default.CloudPageCloudClinic, "list clinics with this token", cancellationToken);
            CredentialStore.Save(new StoredCredentials(url.ToString(), token, time.GetUtcNow()));

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(
                    new LoginResult(url.ToString(), CredentialStore.FilePath, clinics.Items.Select(c => c.Id).ToArray()), LoginJsonContext.Default.LoginResult));
            }
            else
            {
                await output.WriteLineAsync($"Logged in to {url}; token stored in {CredentialStore.FilePath} (mode 0600).");
                await output.WriteLineAsync(clinics.Items.Count == 0 ? "The token sees no clinics." : $"Clinics: {string.Join(", ", clinics.Items.Select(c => c.Id))}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command CreateLogout()
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: config_file and whether a token was removed." };
        var command = new Command("logout", "Delete the stored API token.\nExample: edgectl logout") { json };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var removed = CredentialStore.Delete();
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new LogoutResult(CredentialStore.FilePath, removed), LoginJsonContext.Default.LogoutResult));
            }
            else
            {
                await output.WriteLineAsync(removed ? $"Logged out: removed {CredentialStore.FilePath}." : "Not logged in: nothing to remove.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Prompts on stderr and reads the token without echoing it, so it stays off the screen and out of scrollback.</summary>
    static string ReadHidden(TextWriter prompt)
    {
        if (Console.IsInputRedirected)
        {
            throw new EdgectlException("no terminal to prompt for the token on; pipe it in with --token-stdin.", ExitCodes.Usage);
        }

        prompt.Write("Token (input hidden): ");
        prompt.Flush();
        var token = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (token.Length > 0)
                {
                    token.Length--;
                }

                continue;
            }

            token.Append(key.KeyChar);
        }

        prompt.WriteLine();
        return token.ToString();
    }
}

internal sealed record LoginResult(string ApiUrl, string ConfigFile, string[] Clinics);

internal sealed record LogoutResult(string ConfigFile, bool Removed);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(LoginResult))]
[System.Text.Json.Serialization.JsonSerializable(typeof(LogoutResult))]
internal sealed partial class LoginJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
