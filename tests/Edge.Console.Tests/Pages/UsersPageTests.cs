using Edge.Console.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Pages;

/// <summary>The admin's Users page: an account made there can sign in with its role and clinic, and disabling it ends that.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class UsersPageTests(ConsoleStack stack)
{
    static UsersPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_admin_creates_a_clinician_who_then_signs_in_and_disables_them_again()
    {
        await stack.CreateUserAsync("chief", "admin");
        var context = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/users");
        await ConsoleStack.SignInThroughFormAsync(page, "chief");

        await page.GetByLabel("Username").FillAsync("new-nurse");
        await page.GetByLabel("Display name").FillAsync("New Nurse");
        await page.GetByLabel("Roles (comma-separated: admin, technician, clinician, auditor)").FillAsync("clinician");
        await page.GetByLabel("Clinics (comma-separated ids)").FillAsync(ConsoleStack.ClinicA);
        await page.GetByLabel("Password").FillAsync(ConsoleStack.Password);
        await page.GetByTestId("user-save").ClickAsync();
        await Expect(page.GetByTestId("users-done")).ToHaveTextAsync("Created new-nurse.");
        await Expect(page.GetByTestId("users").GetByRole(AriaRole.Cell, new() { Name = "New Nurse", Exact = true })).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "users-created");

        var nurse = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var nursePage = await nurse.NewPageAsync();
        await nursePage.GotoAsync("/sign-in");
        await ConsoleStack.SignInThroughFormAsync(nursePage, "new-nurse");
        await Expect(nursePage.GetByTestId("devices").GetByRole(AriaRole.Link, new() { Name = ConsoleStack.CpapA })).ToBeVisibleAsync();
        Assert.DoesNotContain(ConsoleStack.CpapB, await nursePage.ContentAsync(), StringComparison.Ordinal);
        await nurse.CloseAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Edit new-nurse" }).ClickAsync();
        await page.GetByLabel("Disabled").CheckAsync();
        await page.GetByTestId("user-save").ClickAsync();
        await Expect(page.GetByTestId("users-done")).ToHaveTextAsync("Saved new-nurse.");

        var again = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var againPage = await again.NewPageAsync();
        await againPage.GotoAsync("/sign-in");
        await ConsoleStack.SignInThroughFormAsync(againPage, "new-nurse");
        await Expect(againPage.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The username or password is not right, or the account is locked or disabled.");
        await again.CloseAsync();
        await context.CloseAsync();
    }
}
