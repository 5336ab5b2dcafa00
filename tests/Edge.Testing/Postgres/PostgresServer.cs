using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Edge.Testing.Postgres;

/// <summary>
/// A real PostgreSQL 15 server in a temporary directory on a free loopback port, for one test assembly run.
/// </summary>
/// <remarks>
/// Use it as an xunit collection fixture: xunit only reads collection definitions from the test assembly itself, so each
/// test project declares
/// <code>
/// [CollectionDefinition(PostgresServer.Collection)]
/// public sealed class PostgresCollection : ICollectionFixture&lt;PostgresServer&gt;;
/// </code>
/// and marks its classes <c>[Collection(PostgresServer.Collection)]</c>. Each class then asks for its own database with
/// <see cref="CreateDatabaseAsync"/>. PostgreSQL refuses to run as root, so when the tests run as root the directory is
/// handed to the <c>postgres</c> user (created by the Debian package) and the server runs as that user through
/// <c>runuser</c>. <see cref="StopAsync"/> and <see cref="StartAsync"/> restart it on the same port and data, which is
/// how tests simulate a database failover.
/// </remarks>
public sealed class PostgresServer : IAsyncLifetime
{
    /// <summary>The xunit collection name every test class sharing the server uses.</summary>
    public const string Collection = "PostgreSQL server";

    /// <summary>Environment variable that points at another PostgreSQL bin directory (default /usr/lib/postgresql/15/bin).</summary>
    public const string BinDirectoryVariable = "EDGE_TEST_PG_BIN";

    private const string DefaultBinDirectory = "/usr/lib/postgresql/15/bin";
    private const string ServiceUser = "postgres";

    // How long pg_ctl waits for a start or a stop. A start after a crash replays the WAL first, which on a machine running
    // three times more processes than cores took longer than a minute and failed every test class after FailoverTests.
    private const string PgCtlWaitSeconds = "300";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _bin;
    private readonly bool _asServiceUser;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _root;
    private bool _running;

    public PostgresServer()
    {
        _bin = Environment.GetEnvironmentVariable(BinDirectoryVariable) is { Length: > 0 } bin ? bin : DefaultBinDirectory;
        _asServiceUser = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
    }

    /// <summary>The loopback port the server listens on; it stays the same across restarts.</summary>
    public int Port { get; private set; }

    /// <summary>Connection string of the <c>postgres</c> maintenance database (user postgres, trust authentication).</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>True between a successful start and the next stop.</summary>
    public bool IsRunning => _running;

    /// <summary>The server's log so far, for failure messages.</summary>
    public string ServerLog
    {
        get
        {
            var path = _root is null ? null : Path.Combine(_root, "server.log");
            try
            {
                return path is not null && File.Exists(path) ? File.ReadAllText(path) : string.Empty;
            }
            catch (IOException)
            {
                return string.Empty;
            }
        }
    }

    private string DataDirectory => Path.Combine(_root!, "data");

    private string SocketDirectory => Path.Combine(_root!, "sock");

    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = ServiceUser,
        Database = database,
        // Tests restart the server; a short connect timeout turns "still down" into a quick, clear failure.
        Timeout = 15,
        CommandTimeout = 60,
    }.ConnectionString;

    /// <summary>Creates an empty database (dropping one left with that name) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        if (name.Length is 0 or > 63 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException($"database name '{name}' must be 1-63 of a-z, 0-9 and '_'", nameof(name));
        }

        // Unpooled: after a restart a pooled connection would be a dead one.
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync(cancellationToken);
        await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection))
        {
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        return ConnectionStringFor(name);
    }

    /// <summary>Creates the cluster (first call) and starts the server; a no-op when it is running.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_running)
            {
                return;
            }

            if (_root is null)
            {
                await InitializeClusterAsync(cancellationToken);
                // The first start may lose the port to another process between FreePort and bind: try a few.
                for (var attempt = 1; ; attempt++)
                {
                    Port = FreePort.Next();
                    try
                    {
                        await StartServerAsync(cancellationToken);
                        break;
                    }
                    catch (InvalidOperationException) when (attempt < 3 && ServerLog.Contains("could not bind", StringComparison.Ordinal))
                    {
                    }
                }
                AppDomain.CurrentDomain.ProcessExit += StopOnExit;
            }
            else
            {
                await StartServerAsync(cancellationToken);
            }
            _running = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops the server: a fast shutdown, or with <paramref name="immediate"/> a crash-like one (no checkpoint, clients
    /// cut off, recovery on the next start). Data stays for <see cref="StartAsync"/>.
    /// </summary>
    public async Task StopAsync(bool immediate = false, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_running || _root is null)
            {
                return;
            }
            await RunAsync(Path.Combine(_bin, "pg_ctl"),
                ["-D", DataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", PgCtlWaitSeconds, "stop"], cancellationToken);
            _running = false;
        }
        finally
        {
            _gate.Release();
        }
    }

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    /// <summary>Stops the server and deletes its directory.</summary>
    public async Task DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= StopOnExit;
        try
        {
            await StopAsync(immediate: true);
        }
        finally
        {
            if (_root is not null)
            {
                try
                {
                    Directory.Delete(_root, recursive: true);
                }
                catch (IOException)
                {
                    // A server process may still be closing files; /tmp is cleaned by the OS.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            _gate.Dispose();
        }
    }

    private async Task InitializeClusterAsync(CancellationToken cancellationToken)
    {
        var initdb = Path.Combine(_bin, "initdb");
        if (!File.Exists(initdb) || !File.Exists(Path.Combine(_bin, "pg_ctl")))
        {
            throw new InvalidOperationException(
                $"PostgreSQL 15 server binaries were not found in {_bin} (initdb, pg_ctl). Install them with " +
                "'apt-get install postgresql-15', or run ./test.sh, which installs what the tests need. " +
                $"Set {BinDirectoryVariable} to use binaries elsewhere.");
        }

        // Short path: the Unix socket path must stay under 108 bytes.
        _root = Directory.CreateTempSubdirectory("edge-pg-").FullName;
        Directory.CreateDirectory(SocketDirectory);
        if (_asServiceUser)
        {
            await RunAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", _root], asServiceUser: false, cancellationToken);
        }

        // --no-sync: a test cluster does not need initdb's own fsyncs; the running server still fsyncs (fsync=on).
        await RunAsync(initdb, ["-D", DataDirectory, "-A", "trust", "-U", ServiceUser, "-E", "UTF8", "--no-locale", "--no-sync"],
            cancellationToken);
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        var options = string.Join(' ',
            "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-k", SocketDirectory,
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=on",
            "-c", "max_connections=200",
            "-c", "shared_buffers=64MB");
        try
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"),
                ["-D", DataDirectory, "-l", Path.Combine(_root!, "server.log"), "-w", "-t", PgCtlWaitSeconds, "-o", options, "start"],
                cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{ex.Message}\nserver log:\n{Tail(ServerLog)}", ex);
        }

        // pg_ctl -w waits for the postmaster; also prove a client gets through on the port the tests use.
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    private void StopOnExit(object? sender, EventArgs e)
    {
        // The test host is exiting without DisposeAsync (a crash or Ctrl-C): do not leave a server running.
        if (_running && _root is not null)
        {
            using var process = Process.Start(CreateStartInfo(Path.Combine(_bin, "pg_ctl"),
                ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], _asServiceUser));
            process?.WaitForExit(10_000);
        }
    }

    private Task RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        RunAsync(program, arguments, _asServiceUser, cancellationToken);

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asServiceUser, CancellationToken cancellationToken)
    {
        using var process = new Process { StartInfo = CreateStartInfo(program, arguments, asServiceUser) };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            string text;
            lock (output)
            {
                text = output.ToString();
            }
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{text}");
        }
    }

    private static ProcessStartInfo CreateStartInfo(string program, IReadOnlyList<string> arguments, bool asServiceUser)
    {
        var info = new ProcessStartInfo(asServiceUser ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // A working directory the service user can read; it cannot enter root's home.
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asServiceUser)
        {
            foreach (var argument in (string[])["-u", ServiceUser, "--", program])
            {
                info.ArgumentList.Add(argument);
            }
        }
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // initdb and the server pick their locale from the environment; the tests want C, whatever the machine says.
        info.Environment["LC_ALL"] = "C";
        info.Environment["LANG"] = "C";
        return info;
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
