using System.CommandLine;

namespace Edge.Cli.Cloud;

/// <summary>The global <c>--api</c> option and the environment that overrides the stored login.</summary>
internal static class ApiOption
{
    public const string UrlVariable = "EDGE_API_URL";
    public const string TokenVariable = "EDGE_TOKEN";

    public static Option<string?> Create()
    {
        var option = new Option<string?>("--api")
        {
            Description = $"URL of the cloud API, e.g. https://api.clinic-edge.example (env {UrlVariable}; default: the one 'edgectl login' stored).",
            HelpName = "url",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && ParseUrl(value) is null)
            {
                result.AddError($"--api: '{value}' is not an http:// or https:// URL.");
            }
        });
        return option;
    }

    /// <summary>An absolute http(s) URL, normalised to end with a slash so relative paths append; null when it is not one.</summary>
    public static Uri? ParseUrl(string text) =>
        Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Query.Length == 0
            ? new Uri(uri.AbsoluteUri.EndsWith('/') ? uri.AbsoluteUri : uri.AbsoluteUri + "/")
            : null;
}
