using System.Globalization;
using System.Security.Cryptography;

namespace Edge.Testing.Redis;

/// <summary>
/// A real Redis (Debian's redis-server) on a free loopback port with a password (<c>requirepass</c>) and no
/// persistence, for tests that share state between API replicas. Stop/start keeps the port, so a test can take Redis
/// away and bring it back the way an outage would.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const string Binary = "/usr/bin/redis-server";

    private readonly string _directory;
    private readonly string _configPath;
    private readonly OutputLog _log = new();
    private ChildProcess? _process;

    private RedisServer(string directory, int port)
    {
        _directory = directory;
        Port = port;
        Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        _configPath = Path.Combine(directory, "redis.conf");
        // No RDB snapshots and no AOF: a test's counters never outlive it, and nothing is written behind its back.
        File.WriteAllText(_configPath, $"""
            bind 127.0.0.1
            port {port}
            protected-mode yes
            requirepass {Password}
            save ""
            appendonly no
            dir {directory}
            daemonize no
            loglevel warning
            logfile ""
            """);
    }

    public int Port { get; }

    public string Password { get; }

    /// <summary>A StackExchange.Redis configuration string with the password, as <c>Api:RateLimit:Redis</c> takes it.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},password={Password}";

    public string Log => _log.ToString();

    public static async Task<RedisServer> StartNewAsync()
    {
        // redis-server cannot listen on port 0 and say which port it got: a free port, and a new one if it lost it.
        return await FreePort.StartAsync(async () =>
        {
            var server = new RedisServer(Directory.CreateTempSubdirectory("edge-redis-").FullName, FreePort.Next());
            try
            {
                await server.StartAsync();
                return server;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        });
    }

    public async Task StartAsync()
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException("redis-server is not installed: run ./test.sh (it installs it) or 'apt-get install redis-server'.");
        }
        _process = await ServerProcess.StartListeningAsync("redis-server", Binary, [_configPath], [Port], TimeSpan.FromSeconds(20), _log);
    }

    /// <summary>SIGTERM, then waits for the process to exit: clients see the connection drop.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        await ServerProcess.TerminateAsync(_process);
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
