using System.Globalization;
using System.Text.RegularExpressions;

namespace Edge.Testing.S3;

/// <summary>
/// A real S3-compatible server (s3rver from the npm registry, installed by <c>npm ci --prefix tools/s3rver</c>) on a
/// loopback port it picks itself (port 0, read back from what it prints) with its data in a temporary directory and one bucket. Stop/start keeps the port and the objects,
/// which is how tests simulate an S3 outage. It checks request signatures with its fixed development keys.
/// </summary>
public sealed partial class S3rverServer : IAsyncDisposable
{
    /// <summary>s3rver's built-in development credentials.</summary>
    public const string AccessKeyId = "S3RVER";
    public const string SecretAccessKey = "S3RVER";

    private readonly string _directory;
    private readonly OutputLog _log = new();
    private ChildProcess? _process;

    private S3rverServer(string directory, int port, string bucket)
    {
        _directory = directory;
        Port = port;
        Bucket = bucket;
    }

    /// <summary>The port it listens on (0 until the first start, which lets s3rver pick it).</summary>
    public int Port { get; private set; }

    public string Bucket { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    public string Log => _log.ToString();

    /// <summary>Settings for <c>Reports</c> (ingest worker and API) pointing at this server, as --key=value arguments.</summary>
    public string[] ReportSettings =>
    [
        $"--Reports:Bucket={Bucket}",
        $"--Reports:ServiceUrl={ServiceUrl}",
        "--Reports:ForcePathStyle=true",
        $"--Reports:AccessKeyId={AccessKeyId}",
        $"--Reports:SecretAccessKey={SecretAccessKey}",
    ];

    /// <summary>The same settings as configuration keys.</summary>
    public IEnumerable<KeyValuePair<string, string?>> ReportConfiguration =>
        ReportSettings.Select(s => s[2..].Split('=', 2)).Select(p => new KeyValuePair<string, string?>(p[0], p[1]));

    public static async Task<S3rverServer> StartNewAsync(string bucket = "ecg-reports")
    {
        var directory = Directory.CreateTempSubdirectory("edge-s3rver-").FullName;
        var server = new S3rverServer(directory, port: 0, bucket);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var script = RepositoryPaths.File("tools", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"s3rver is not installed ({script}): run 'npm ci --prefix tools/s3rver' (./test.sh does) after 'apt-get install nodejs npm'.");
        }

        string[] arguments = [script, "-d", _directory, "-a", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "--no-vhost-buckets", "--configure-bucket", Bucket];
        if (Port != 0)
        {
            // A restart: the same port, which the clients of the test already know.
            _process = await ServerProcess.StartListeningAsync("s3rver", "node", arguments, [Port], TimeSpan.FromSeconds(30), _log);
            return;
        }

        // The first start binds port 0, so no other process can take the port first, and reads back which one it got.
        var process = ChildProcess.Start("node", arguments, onOutput: _log.Write);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        Match match;
        while (!(match = Listening().Match(process.StandardOutput)).Success)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await process.DisposeAsync();
                throw new InvalidOperationException($"s3rver did not say where it listens:\n{_log}");
            }

            await Task.Delay(20);
        }

        Port = int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);
        _process = process;
    }

    /// <summary>Stops the server (an S3 outage); the port and the objects stay for <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        await _process.DisposeAsync(); // SIGKILL, as an outage
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>What bin/s3rver.js prints once it listens: <c>S3rver listening on 127.0.0.1:PORT</c>.</summary>
    [GeneratedRegex(@"S3rver listening on \S+:(?<port>\d+)")]
    private static partial Regex Listening();
}
