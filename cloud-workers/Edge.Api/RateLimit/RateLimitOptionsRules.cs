using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Edge.Api.RateLimit;

/// <summary>The rules the annotations cannot say: a Redis configuration string that parses, a password file that can be read and is private.</summary>
internal sealed class RateLimitOptionsRules : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            try
            {
                if (ConfigurationOptions.Parse(options.Redis).EndPoints.Count == 0)
                {
                    failures.Add("Api:RateLimit:Redis names no host: give host:port, e.g. redis:6379.");
                }
            }
            catch (ArgumentException error)
            {
                failures.Add($"Api:RateLimit:Redis is not a Redis configuration string: {error.Message}");
            }
        }
        if (!string.IsNullOrWhiteSpace(options.RedisPasswordFile))
        {
            if (string.IsNullOrWhiteSpace(options.Redis))
            {
                failures.Add("Api:RateLimit:RedisPasswordFile is set without Api:RateLimit:Redis.");
            }
            else if (!File.Exists(options.RedisPasswordFile))
            {
                failures.Add($"Api:RateLimit:RedisPasswordFile {options.RedisPasswordFile} does not exist.");
            }
            else if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(options.RedisPasswordFile) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                failures.Add($"Api:RateLimit:RedisPasswordFile {options.RedisPasswordFile} is readable by group or others: chmod 0600 it.");
            }
            else if (string.IsNullOrWhiteSpace(File.ReadAllText(options.RedisPasswordFile)))
            {
                failures.Add($"Api:RateLimit:RedisPasswordFile {options.RedisPasswordFile} is empty.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
