using Edge.Storage.Downlink;

namespace Edge.Api.Downlink;

/// <summary>A page of a device's config versions, newest first; <c>next_cursor</c> continues below the last one.</summary>
internal sealed record ConfigVersionPage(IReadOnlyList<ConfigVersion> Items, string? NextCursor);

/// <summary>Body of <c>POST /v1/firmware/jobs</c>.</summary>
/// <param name="Kind">cpap, bipap, oxygen or ecg; every target must be of this kind.</param>
/// <param name="Url">Where devices download the image (https); the gateway never downloads it.</param>
/// <param name="Sha256">The image's SHA-256, 64 lower-case hex digits; devices check it.</param>
internal sealed record CreateFirmwareJobRequest(string? Kind, string? Version, string? Url, string? Sha256, IReadOnlyList<string>? Serials);
