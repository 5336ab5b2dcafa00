using System.CommandLine;

namespace Edge.Cli.Completion;

/// <summary>
/// <c>edgectl completion bash|zsh</c>: prints a shell script that asks edgectl itself for completions through
/// System.CommandLine's built-in <c>[suggest:POSITION]</c> directive, so completions always match this build's commands
/// and options without a separate tool (dotnet-suggest) to install.
/// </summary>
internal static class CompletionCommand
{
    const string Bash = """
        # edgectl completion for bash. Load it now:   source <(edgectl completion bash)
        # or for every shell:   edgectl completion bash > /etc/bash_completion.d/edgectl
        _edgectl_complete() {
            local IFS=$'\n'
            local suggestions
            suggestions=$(edgectl "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null | grep -v '^/' | grep -v '^-?$')
            COMPREPLY=( $(compgen -W "${suggestions}" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _edgectl_complete edgectl

        """;

    const string Zsh = """
        #compdef edgectl
        # edgectl completion for zsh. Load it now:   source <(edgectl completion zsh)
        # or save it as _edgectl in a directory on $fpath.
        _edgectl() {
            local -a suggestions
            suggestions=("${(@f)$(edgectl "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null | grep -v '^/' | grep -v '^-?$')}")
            compadd -- "${suggestions[@]}"
        }
        compdef _edgectl edgectl

        """;

    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh." };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command(
            "completion",
            "Print a shell completion script for bash or zsh.\nExample: source <(edgectl completion bash)")
        {
            shell,
        };
        command.SetAction(parseResult =>
        {
            parseResult.InvocationConfiguration.Output.Write(parseResult.GetRequiredValue(shell) == "bash" ? Bash : Zsh);
            return ExitCodes.Ok;
        });
        return command;
    }
}
