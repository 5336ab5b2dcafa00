using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Edge.Hosting;

/// <summary>Turns a settings validation failure at start into one stderr line per bad setting and exit code 78.</summary>
/// <remarks>
/// Without this, <c>ValidateOnStart</c>'s exception escapes <c>Main</c> and .NET aborts with 134 (SIGABRT) and a stack
/// trace, which a supervisor cannot tell from a crash. 78 is EX_CONFIG from sysexits.h: systemd's
/// <c>RestartPreventExitStatus=78</c> (or a container platform watching exit codes) then stops restarting the process
/// into the same mistake, and the message names the setting to fix. Used by all three processes' <c>Main</c>.
/// </remarks>
public static partial class ConfigurationExit
{
    /// <summary>EX_CONFIG (sysexits.h): a configuration error.</summary>
    public const int ExitCode = 78;

    /// <summary>The validation failures in <paramref name="error"/>, or false when it is not (only) a settings problem.</summary>
    public static bool TryGetFailures(Exception error, out IReadOnlyList<string> failures)
    {
        // Several invalid option classes at start arrive as one AggregateException of OptionsValidationExceptions.
        var errors = error is AggregateException aggregate ? aggregate.Flatten().InnerExceptions : [error];
        var found = new List<string>();
        foreach (var inner in errors)
        {
            if (inner is not OptionsValidationException validation)
            {
                failures = [];
                return false;
            }

            found.AddRange(validation.Failures.Select(Plain));
        }

        failures = found;
        return found.Count > 0;
    }

    // Validators wrap our messages: reflection-based data annotations as "DataAnnotation validation failed for
    // 'AgentOptions' members: 'GatewayId' with the error: '…'.", the generated [OptionsValidator]s as "GatewayId: …" or
    // "Tls.Port: …". The inner message already names the setting, in the form the documentation uses ("Agent:…", with
    // no space after its colons, so the member prefix's pattern cannot eat it).
    private static string Plain(string failure)
    {
        if (DataAnnotationFailure().Match(failure) is { Success: true } annotation)
        {
            return annotation.Groups["error"].Value;
        }

        return GeneratedValidatorFailure().Match(failure) is { Success: true } generated ? generated.Groups["error"].Value : failure;
    }

    [GeneratedRegex("^DataAnnotation validation failed for '[^']*' members: '[^']*' with the error: '(?<error>.*)'\\.$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_.]*: (?<error>.*)$", RegexOptions.Singleline)]
    private static partial Regex GeneratedValidatorFailure();

    /// <summary>Writes each failure on its own line, prefixed with the program name, so `journalctl -u …` shows the setting.</summary>
    public static int Report(string program, IReadOnlyList<string> failures, TextWriter error)
    {
        foreach (var failure in failures)
        {
            error.WriteLine($"{program}: configuration error: {failure}");
        }

        error.WriteLine($"{program}: not started (exit code {ExitCode}); fix the setting and start it again.");
        return ExitCode;
    }
}
