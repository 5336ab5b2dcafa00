using Edge.Cli.Tests.Infrastructure;

namespace Edge.Cli.Tests.Cloud;

/// <summary><c>edgectl completion</c> and the suggest directive its scripts call.</summary>
public sealed class CompletionTests
{
    [Fact]
    public async Task Scripts_call_the_suggest_directive_which_knows_the_commands()
    {
        using var home = new TempDirectory();
        var edgectl = new EdgectlProcess(home.Path);

        var bash = await edgectl.RunAsync("completion", "bash");
        var zsh = await edgectl.RunAsync("completion", "zsh");
        var fish = await edgectl.RunAsync("completion", "fish");
        var suggestions = await edgectl.RunAsync("[suggest:15]", "edgectl device ");

        Assert.Contains("complete -o default -F _edgectl_complete edgectl", bash.Output, StringComparison.Ordinal);
        Assert.Contains("compdef _edgectl edgectl", zsh.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, fish.ExitCode);
        Assert.Contains("'fish'", fish.Error, StringComparison.Ordinal);
        Assert.Equal(["list", "register", "retire", "show"], suggestions.Output.Split('\n').Where(s => s.Length > 0 && char.IsLetter(s[0])));
    }

    [Fact]
    public async Task The_cloud_ledger_commands_complete_and_are_told_apart_from_the_gateways_dead_letters()
    {
        using var home = new TempDirectory();
        var edgectl = new EdgectlProcess(home.Path);

        var cloud = await edgectl.RunAsync("[suggest:14]", "edgectl cloud ");
        var rejected = await edgectl.RunAsync("[suggest:23]", "edgectl cloud rejected ");
        var user = await edgectl.RunAsync("[suggest:19]", "edgectl cloud user ");
        var help = await edgectl.RunAsync("deadletters", "--help");

        Assert.Equal(["alerts", "dead-letters", "rejected", "user"], cloud.Output.Split('\n').Where(s => s.Length > 0 && char.IsLetter(s[0])));
        Assert.Equal(["list", "requeue", "show"], rejected.Output.Split('\n').Where(s => s.Length > 0 && char.IsLetter(s[0])));
        Assert.Equal(["add", "disable", "enable", "list", "password", "show", "unlock", "update"], user.Output.Split('\n').Where(s => s.Length > 0 && char.IsLetter(s[0])));
        Assert.Contains("edgectl cloud dead-letters", help.Output, StringComparison.Ordinal);
    }
}
