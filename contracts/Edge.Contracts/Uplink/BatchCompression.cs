namespace Edge.Contracts.Uplink;

/// <summary>How a batch's JSON body is compressed; the byte after the format version in the envelope.</summary>
public enum BatchCompression : byte
{
    None = 0,
    Gzip = 1,
    Brotli = 2,
}
