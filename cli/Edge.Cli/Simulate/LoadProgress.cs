namespace Edge.Cli.Simulate;

/// <summary>A snapshot of a running <see cref="LoadGenerator"/>, for progress lines.</summary>
internal readonly record struct LoadProgress(long Acknowledged, long Refused, long Reconnects, long Errors, TimeSpan Elapsed, string? LastError);
