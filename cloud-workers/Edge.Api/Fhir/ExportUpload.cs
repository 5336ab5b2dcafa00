using Amazon.S3.Model;
using Edge.Storage.Reports;

namespace Edge.Api.Fhir;

/// <summary>
/// One NDJSON file of an export, written straight to the bucket in parts (S3 multipart upload): bytes gather in a
/// buffer, and each full part goes up while the writer fills the next, at most one upload in flight. A file smaller
/// than one part is one plain PUT. Replaces writing a temporary file and uploading it whole after it was written.
/// </summary>
internal sealed class ExportUpload(ReportObjects objects, string key, ILogger logger) : IAsyncDisposable
{
    /// <summary>Bytes per part: S3's minimum is 5 MiB for every part but the last.</summary>
    public const int PartSize = 8 << 20;

    private readonly List<PartETag> _parts = [];
    private MemoryStream _part = new(PartSize + (1 << 20));
    private string? _uploadId;
    private Task<PartETag>? _inFlight;
    private bool _completed;

    public string Key => key;

    /// <summary>Appends <paramref name="bytes"/> (copied: the caller may reuse its buffer); uploads a part once one is full.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _part.Write(bytes.Span);
        if (_part.Length >= PartSize)
        {
            await SendPartAsync(cancellationToken);
        }
    }

    /// <summary>Uploads what is left and completes the object.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_uploadId is null)
        {
            _part.Position = 0;
            await objects.PutObjectAsync(key, _part, FhirExportRunner.NdjsonContentType, cancellationToken);
            _completed = true;
            return;
        }
        if (_part.Length > 0)
        {
            await SendPartAsync(cancellationToken);
        }
        _parts.Add(await _inFlight!);
        _inFlight = null;
        await objects.CompletePartsAsync(key, _uploadId, _parts, cancellationToken);
        _completed = true;
    }

    /// <summary>An object that was not completed (the export failed or was cancelled) has its parts dropped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_completed && _uploadId is not null)
        {
            try
            {
                if (_inFlight is not null)
                {
                    await _inFlight;
                }
                await objects.AbortPartsAsync(key, _uploadId, CancellationToken.None);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                Log.FhirExportDeleteFailed(logger, key, error);
            }
        }
        await _part.DisposeAsync();
    }

    private async Task SendPartAsync(CancellationToken cancellationToken)
    {
        _uploadId ??= await objects.StartPartsAsync(key, FhirExportRunner.NdjsonContentType, cancellationToken);
        if (_inFlight is not null)
        {
            _parts.Add(await _inFlight);
        }
        var part = _part;
        part.Position = 0;
        _part = new MemoryStream(PartSize + (1 << 20));
        _inFlight = UploadAsync(part, _parts.Count + 1, cancellationToken);
    }

    private async Task<PartETag> UploadAsync(MemoryStream part, int number, CancellationToken cancellationToken)
    {
        await using (part)
        {
            return await objects.UploadPartAsync(key, _uploadId!, number, part, cancellationToken);
        }
    }
}
