using System.Globalization;
using Edge.Api.Hosting;

namespace Edge.Api.Auth;

/// <summary>
/// <c>edge-api token --role admin [--clinic ID]… [--subject NAME] [--hours N] [--gateway ID] [--scope SCOPE]…</c>: prints a
/// token signed with the local key from the API's own configuration, for local installs, the first admin of an on-prem
/// one, and integration clients of the FHIR API (<c>--scope system/*.read</c>).
/// </summary>
internal static class TokenCommand
{
    private const string Usage = "usage: edge-api token --role admin|technician|clinician|auditor|gateway [--role …] [--clinic ID]… [--subject NAME] [--hours 1-720] [--gateway ID] [--scope system/*.read|system/Observation.read|…]…";

    public static int Run(string[] args)
    {
        var roles = new List<string>();
        var clinics = new List<string>();
        var subject = "local-admin";
        var hours = 12;
        string? gateway = null;
        var scopes = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--role" when value is not null && ApiRoles.All.Contains(value):
                    roles.Add(value);
                    break;
                case "--clinic" when value is not null:
                    clinics.Add(value);
                    break;
                case "--subject" when !string.IsNullOrWhiteSpace(value):
                    subject = value;
                    break;
                case "--hours" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out hours) && hours is >= 1 and <= 720:
                    break;
                case "--gateway" when value is not null:
                    gateway = value;
                    break;
                case "--scope" when value is not null && Fhir.FhirScopes.Parse(value) is not null:
                    scopes.Add(value);
                    break;
                default:
                    Console.Error.WriteLine($"edge-api token: '{args[i]} {value}' is not valid.");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
            i++;
        }
        if (roles.Count == 0)
        {
            Console.Error.WriteLine("edge-api token: --role is required.");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Environment.GetEnvironmentVariable(ApiApplication.ConfigFileVariable) ?? "/etc/edge-api/api.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var options = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        try
        {
            var key = LocalSigningKey.Load(options);
            if (key is null)
            {
                Console.Error.WriteLine("edge-api token: no local signing key is configured (Api:Auth:SigningKeyFile); with an OIDC authority, tokens come from the identity provider.");
                return 1;
            }
            Console.WriteLine(new LocalTokenIssuer(options, key, TimeProvider.System).Issue(subject, roles, clinics, TimeSpan.FromHours(hours), gateway, scopes: scopes));
            return 0;
        }
        catch (InvalidOperationException error)
        {
            Console.Error.WriteLine($"edge-api token: {error.Message}");
            return 1;
        }
    }
}
