using System.Net;
using Edge.Console.Hosting;
using Edge.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Edge.Console.Tests.Hosting;

/// <summary>A misconfigured console stops at start naming the setting; single sign-on sends the browser to the provider with PKCE.</summary>
public sealed class SettingsTests
{
    [Theory]
    [InlineData("", "Console:ApiUrl is required")]
    [InlineData("--Console:ApiUrl=ftp://api.example", "Console:ApiUrl must be an absolute http or https URL")]
    [InlineData("--Console:ApiUrl=http://127.0.0.1:1|--Console:ApiCaPath=/tmp/ca.pem", "Console:ApiCaPath is only for an https Console:ApiUrl")]
    [InlineData("--Console:ApiUrl=https://api.example|--Console:ApiCaPath=/nonexistent/ca.pem", "Console:ApiCaPath: no such file /nonexistent/ca.pem")]
    [InlineData("--Console:ApiUrl=http://127.0.0.1:1|--Console:Oidc:Authority=https://idp.example", "Console:Oidc:ClientId is required")]
    [InlineData("--Console:ApiUrl=http://127.0.0.1:1|--Console:Oidc:Authority=http://idp.example|--Console:Oidc:ClientId=console", "Console:Oidc:Authority must be an absolute https URL")]
    [InlineData("--Console:ApiUrl=http://127.0.0.1:1|--Console:RefreshBeforeExpirySeconds=1", "Console:RefreshBeforeExpirySeconds must be between 5 and 3600")]
    [InlineData("--Console:ApiUrl=http://127.0.0.1:1|--Console:Oidc:RoleClaim=", "Console:Oidc:RoleClaim is required")]
    public async Task A_bad_setting_stops_the_console_at_start_naming_it(string settings, string message)
    {
        using var state = new TempDirectory();
        string[] args = [$"--Console:StateDirectory={state.Path}", $"--Urls=http://127.0.0.1:{FreePort.Next()}", .. settings.Split('|', StringSplitOptions.RemoveEmptyEntries)];
        await using var app = ConsoleApplication.Build(args);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_an_OIDC_authority_sign_in_redirects_to_it_with_an_authorization_code_request_and_PKCE()
    {
        // The provider's discovery document, served on loopback: enough for the redirect (there is no provider here).
        var idpPort = FreePort.Next();
        var idp = $"http://127.0.0.1:{idpPort}";
        await using var provider = WebApplication.Create([$"--Urls={idp}"]);
        provider.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, string>
        {
            ["issuer"] = idp,
            ["authorization_endpoint"] = idp + "/authorize",
            ["token_endpoint"] = idp + "/token",
            ["jwks_uri"] = idp + "/jwks",
        }));
        provider.MapGet("/jwks", () => Results.Json(new { keys = Array.Empty<object>() }));
        await provider.StartAsync();
        using var state = new TempDirectory();
        await using var console = await InProcessConsoleFor(state.Path, $"--Console:Oidc:Authority={idp}", "--Console:Oidc:ClientId=clinic-console", "--Console:Oidc:RequireHttpsMetadata=false");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = console.BaseAddress };

        using var signIn = await http.GetAsync("/sign-in");
        Assert.Contains("/account/sign-in-oidc", await signIn.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var response = await http.GetAsync("/account/sign-in-oidc?returnUrl=%2Fdevices");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal(idp + "/authorize", location.GetLeftPart(UriPartial.Path));
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("clinic-console", query["client_id"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["code_challenge"]));
        Assert.Contains("openid", query["scope"]!.Split(' '));
        Assert.EndsWith("/signin-oidc", query["redirect_uri"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_an_OIDC_authority_there_is_no_single_sign_on()
    {
        using var state = new TempDirectory();
        await using var console = await InProcessConsoleFor(state.Path);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = console.BaseAddress };

        using var response = await http.GetAsync("/account/sign-in-oidc");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("/account/sign-in-oidc", await (await http.GetAsync("/sign-in")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static Task<Infrastructure.InProcessConsole> InProcessConsoleFor(string state, params string[] settings) =>
        Infrastructure.InProcessConsole.StartAsync(new Uri("http://127.0.0.1:1"), state, settings);
}
