using System.Net;
using System.Net.Http.Json;
using Edge.Console.Sessions;
using Edge.Console.Tests.Infrastructure;
using Edge.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Sessions;

/// <summary>
/// Local accounts signing in through the form: the API's tokens stay on the server (the browser holds an HttpOnly
/// cookie naming the session), refresh before they expire, and die with sign-out.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class SignInTests(ConsoleStack stack)
{
    static SignInTests() => SetDefaultExpectTimeout(30_000);

    [Theory]
    [InlineData("admin", "/fleet")]
    [InlineData("technician", "/fleet")]
    [InlineData("clinician", "/devices")]
    [InlineData("auditor", "/fleet")]
    public async Task Each_role_signs_in_through_the_form_and_lands_on_its_start_page(string role, string start)
    {
        var username = $"{role}-form";
        await stack.CreateUserAsync(username, role, role == "admin" ? [] : [ConsoleStack.ClinicA]);
        var context = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sign-in"));

        await ConsoleStack.SignInThroughFormAsync(page, username);

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(start + "$"));
        await Expect(page.GetByTestId("signed-in-as")).ToContainTextAsync($"{username} (test) ({role})");
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == SignInSetup.CookieName);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);
        // Nothing of the API's tokens reaches the page's JavaScript or its HTML.
        Assert.Equal("", await page.EvaluateAsync<string>("() => document.cookie"));
        Assert.DoesNotContain("eyJ", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", cookie.Value, StringComparison.Ordinal);
        await PageChecks.ScreenshotAsync(page, $"signed-in-{role}");
        await context.CloseAsync();
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_one_message_and_no_cookie()
    {
        await stack.CreateUserAsync("wrong-password", "clinician", ConsoleStack.ClinicA);
        var context = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/sign-in");

        await ConsoleStack.SignInThroughFormAsync(page, "wrong-password", "not the password");

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The username or password is not right, or the account is locked or disabled.");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == SignInSetup.CookieName);
        // An unknown user reads exactly the same.
        await ConsoleStack.SignInThroughFormAsync(page, "nobody-at-all", "not the password");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The username or password is not right, or the account is locked or disabled.");
        await context.CloseAsync();
    }

    [Fact]
    public async Task After_sign_in_the_user_returns_to_the_page_they_asked_for_and_never_to_another_site()
    {
        await stack.CreateUserAsync("returning", "clinician", ConsoleStack.ClinicA);
        var context = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var page = await context.NewPageAsync();

        await page.GotoAsync($"/devices/{ConsoleStack.OxygenA}");
        await ConsoleStack.SignInThroughFormAsync(page, "returning");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/devices/{ConsoleStack.OxygenA}$"));

        await page.GotoAsync("/sign-in?returnUrl=//evil.example/steal");
        await ConsoleStack.SignInThroughFormAsync(page, "returning");
        Assert.Equal(stack.Console.BaseAddress.Host, new Uri(page.Url).Host);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/devices$"));
        await context.CloseAsync();
    }

    [Fact]
    public async Task Signing_out_revokes_the_refresh_token_at_the_API()
    {
        await stack.CreateUserAsync("leaving", "technician", ConsoleStack.ClinicA);
        var context = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/sign-in");
        await ConsoleStack.SignInThroughFormAsync(page, "leaving");
        await Expect(page.GetByTestId("gateways")).ToBeVisibleAsync();
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == SignInSetup.CookieName);
        var refresh = stack.SessionOf(stack.Console, cookie.Value)!.RefreshToken!;

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByText("You have signed out.")).ToBeVisibleAsync();

        using var api = stack.Api.Client(null);
        using var response = await api.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = refresh });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(stack.SessionOf(stack.Console, cookie.Value));
        await context.CloseAsync();
    }

    [Fact]
    public async Task The_access_token_is_refreshed_before_it_expires_and_the_old_refresh_token_stops_working()
    {
        // A console that refreshes whenever less than an hour is left: every API call of this test refreshes.
        using var state = new TempDirectory();
        await using var eager = await InProcessConsole.StartAsync(stack.Api.BaseAddress, state.Path, "--Console:RefreshBeforeExpirySeconds=3600");
        await stack.CreateUserAsync("refreshing", "technician", ConsoleStack.ClinicA);
        var context = await stack.Browser.NewContextAsync(eager.BaseAddress);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/sign-in");
        await ConsoleStack.SignInThroughFormAsync(page, "refreshing");
        await Expect(page.GetByTestId("gateways")).ToBeVisibleAsync();
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == SignInSetup.CookieName);
        var first = stack.SessionOf(eager, cookie.Value)!;

        await page.GotoAsync("/devices");
        await Expect(page.GetByTestId("devices").GetByRole(AriaRole.Link, new() { Name = ConsoleStack.CpapA })).ToBeVisibleAsync();

        var later = stack.SessionOf(eager, cookie.Value)!;
        Assert.NotEqual(first.RefreshToken, later.RefreshToken);
        Assert.True(later.ExpiresAt >= first.ExpiresAt);
        using var api = stack.Api.Client(null);
        using var replay = await api.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = first.RefreshToken });
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        await context.CloseAsync();
    }
}
