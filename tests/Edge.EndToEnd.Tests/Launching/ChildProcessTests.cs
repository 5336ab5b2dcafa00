using System.Globalization;
using Edge.Testing;

namespace Edge.EndToEnd.Tests.Launching;

/// <summary>
/// The test launcher (<see cref="ChildProcess"/>) and the port rules every fixture relies on: output as printed, exit
/// codes, SIGTERM then SIGKILL, and a server that lost its port to another process never passing as started.
/// </summary>
public sealed class ChildProcessTests
{
    [Fact]
    public async Task A_run_returns_the_exit_code_and_the_output_byte_for_byte_apart_and_together()
    {
        var result = await ChildProcess.RunAsync("bash", ["-c", "printf out; printf err >&2; exit 3"], TimeSpan.FromSeconds(30));

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out", result.StandardOutput); // no newline added to output that had none
        Assert.Equal("err", result.StandardError);
    }

    [Fact]
    public async Task A_run_gets_its_input_environment_and_working_directory_and_not_an_unset_variable()
    {
        using var directory = new TempDirectory();
        Environment.SetEnvironmentVariable("EDGE_TEST_LAUNCHER_UNSET", "inherited");
        var result = await ChildProcess.RunAsync(
            "bash",
            ["-c", "read line; echo \"$line|$EDGE_TEST_LAUNCHER_SET|${EDGE_TEST_LAUNCHER_UNSET:-none}|$PWD\""],
            TimeSpan.FromSeconds(30),
            new Dictionary<string, string> { ["EDGE_TEST_LAUNCHER_SET"] = "set" },
            workingDirectory: directory.Path,
            unset: ["EDGE_TEST_LAUNCHER_UNSET"],
            input: "typed\n");

        Assert.Equal($"typed|set|none|{directory.Path}\n", result.StandardOutput);
    }

    [Fact]
    public async Task A_process_past_its_timeout_is_killed_and_the_error_says_what_it_printed()
    {
        await using var child = ChildProcess.Start("bash", ["-c", "echo started; exec sleep 60"]);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => child.WaitForExitAsync(TimeSpan.FromSeconds(2)));

        Assert.True(child.HasExited);
        Assert.Contains("started", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_sends_sigterm_first_and_the_process_exits_as_it_chooses()
    {
        await using var child = ChildProcess.Start("bash", ["-c", "trap 'exit 7' TERM; echo ready; while true; do sleep 0.1; done"]);
        await Eventually.TrueAsync(() => Task.FromResult(child.StandardOutput.Contains("ready", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the script to set its trap");

        Assert.Equal(7, await child.StopAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Stop_kills_a_process_that_ignores_sigterm_after_the_grace_period()
    {
        await using var child = ChildProcess.Start("bash", ["-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"]);
        await Eventually.TrueAsync(() => Task.FromResult(child.StandardOutput.Contains("ready", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the script to ignore SIGTERM");

        Assert.Equal(137, await child.StopAsync(TimeSpan.FromSeconds(1))); // 128 + SIGKILL
    }

    [Fact]
    public async Task Dispose_kills_the_children_too()
    {
        var child = ChildProcess.Start("bash", ["-c", "sleep 60 & echo $!; wait"]);
        await Eventually.TrueAsync(() => Task.FromResult(child.StandardOutput.Contains('\n', StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the script to start its child");
        var grandchild = int.Parse(child.StandardOutput.Trim(), CultureInfo.InvariantCulture);

        await child.DisposeAsync();

        await Eventually.TrueAsync(() => Task.FromResult(!IsRunning(grandchild)), TimeSpan.FromSeconds(30), "the child's child to be gone");
    }

    [Fact]
    public async Task A_server_whose_port_another_process_holds_does_not_pass_as_started_and_says_the_port_was_taken()
    {
        // Another process won the race between FreePort.Next() and the server's bind: something answers on the port,
        // but it is not the server. (A .NET listener would not do as the squatter: its socket lets redis bind too.)
        var port = FreePort.Next();
        var squatterLog = new OutputLog();
        await using var squatter = await ServerProcess.StartListeningAsync("redis-server", "/usr/bin/redis-server", RedisOn(port), [port], TimeSpan.FromSeconds(20), squatterLog);
        var log = new OutputLog();

        await Assert.ThrowsAsync<PortInUseException>(() => ServerProcess.StartListeningAsync("redis-server", "/usr/bin/redis-server", RedisOn(port), [port], TimeSpan.FromSeconds(20), log));
        Assert.Contains("Address already in use", log.ToString(), StringComparison.Ordinal);
    }

    private static string[] RedisOn(int port) =>
        ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];

    [Fact]
    public async Task A_start_that_lost_its_port_is_tried_again_on_new_ports_a_bounded_number_of_times()
    {
        var attempts = 0;
        var started = await FreePort.StartAsync(() => ++attempts < 3 ? throw new PortInUseException("taken") : Task.FromResult("started"));
        Assert.Equal(("started", 3), (started, attempts));

        attempts = 0;
        await Assert.ThrowsAsync<PortInUseException>(() => FreePort.StartAsync<string>(() => { attempts++; throw new PortInUseException("always taken"); }));
        Assert.Equal(FreePort.Attempts, attempts);
    }

    private static bool IsRunning(int processId) =>
        File.Exists($"/proc/{processId}/status")
        && !File.ReadLines($"/proc/{processId}/status").Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains("zombie", StringComparison.Ordinal));
}
