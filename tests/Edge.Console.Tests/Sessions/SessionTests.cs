using System.Net;
using Edge.Console.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Sessions;

/// <summary>What the session cookie and the console's answers promise: no page without a session, sign-out ends it for good,
/// a restart keeps it, forms need their antiforgery token, and every answer carries the security headers.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SessionTests(ConsoleStack stack)
{
    static SessionTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task A_page_without_a_session_sends_the_browser_to_sign_in_and_back_afterwards()
    {
        using var http = Client();

        using var response = await http.GetAsync($"/devices/{ConsoleStack.CpapA}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/sign-in?ReturnUrl=%2Fdevices%2F", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/sign-in")]
    [InlineData("/devices")]
    public async Task Every_answer_carries_the_security_headers(string path)
    {
        using var http = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        var cookie = await stack.SessionCookieAsync("admin", [ConsoleStack.ClinicA]);
        request.Headers.Add("Cookie", $"{cookie.Name}={cookie.Value}");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }

    [Fact]
    public async Task A_sign_in_post_without_the_antiforgery_token_is_refused_before_the_API_is_asked()
    {
        using var http = Client();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = "guess" });

        using var response = await http.PostAsync("/account/sign-in", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task A_sign_out_posted_by_another_site_without_the_antiforgery_token_is_refused_and_the_session_lives_on()
    {
        var cookie = await stack.SessionCookieAsync("clinician", [ConsoleStack.ClinicA], subject: "csrf-target");
        using var http = Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/sign-out") { Content = new FormUrlEncodedContent([]) };
        request.Headers.Add("Cookie", $"{cookie.Name}={cookie.Value}");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(stack.SessionOf(stack.Console, cookie.Value));
    }

    [Fact]
    public async Task Signing_out_ends_the_session_so_the_old_cookie_opens_nothing()
    {
        var page = await stack.SignedInPageAsync("technician", ConsoleStack.ClinicA);
        await page.GotoAsync("/fleet");
        await Expect(page.GetByTestId("gateways")).ToBeVisibleAsync();
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == Edge.Console.Sessions.SignInSetup.CookieName);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByText("You have signed out.")).ToBeVisibleAsync();

        // Someone who copied the cookie before the sign-out replays it.
        using var http = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/fleet");
        request.Headers.Add("Cookie", $"{cookie.Name}={cookie.Value}");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/sign-in", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_session_survives_a_restart_of_the_console()
    {
        var cookie = await stack.SessionCookieAsync("technician", [ConsoleStack.ClinicA], subject: "restart-user");

        // A second console process on the same state directory: the keys and the session come from disk.
        await using var restarted = await InProcessConsole.StartAsync(stack.Api.BaseAddress, stack.StateDirectory);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = restarted.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/fleet");
        request.Headers.Add("Cookie", $"{cookie.Name}={cookie.Value}");
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var keys = Path.Combine(stack.StateDirectory, "keys");
        Assert.NotEmpty(Directory.GetFiles(keys));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keys));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(stack.StateDirectory, "sessions")));
        Assert.All(Directory.GetFiles(Path.Combine(stack.StateDirectory, "sessions")), file =>
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file)));
    }

    [Fact]
    public async Task The_session_files_hold_no_token_in_clear_and_are_not_named_by_the_session_id()
    {
        var cookie = await stack.SessionCookieAsync("clinician", [ConsoleStack.ClinicA], subject: "files-user");

        foreach (var file in Directory.GetFiles(Path.Combine(stack.StateDirectory, "sessions")))
        {
            var text = await File.ReadAllTextAsync(file);
            Assert.DoesNotContain("files-user", text, StringComparison.Ordinal);
            Assert.DoesNotContain("eyJ", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Path.GetFileName(file), cookie.Value, StringComparison.Ordinal);
        }
    }

    private HttpClient Client() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = stack.Console.BaseAddress };
}
