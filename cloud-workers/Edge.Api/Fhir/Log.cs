namespace Edge.Api;

/// <summary>The FHIR API's log lines (8900-8949): bulk export jobs. Never a patient identifier or a presigned URL.</summary>
internal static partial class Log
{
    [LoggerMessage(8900, LogLevel.Information, "FHIR export {JobId} of clinic {ClinicId} queued by {Subject}: {Types}")]
    public static partial void FhirExportQueued(ILogger logger, Guid jobId, string clinicId, string subject, string types);

    [LoggerMessage(8901, LogLevel.Information, "FHIR export {JobId} of clinic {ClinicId} completed: {Resources} resources in {Files} files, {Seconds:0.0} s")]
    public static partial void FhirExportCompleted(ILogger logger, Guid jobId, string clinicId, long resources, int files, double seconds);

    [LoggerMessage(8902, LogLevel.Error, "FHIR export {JobId} of clinic {ClinicId} failed; the client's status poll answers 500 with the reason")]
    public static partial void FhirExportFailed(ILogger logger, Guid jobId, string clinicId, Exception error);

    [LoggerMessage(8903, LogLevel.Warning, "FHIR export runner: could not claim a job (the registry database?); trying again in {Delay}")]
    public static partial void FhirExportClaimFailed(ILogger logger, TimeSpan delay, Exception error);

    [LoggerMessage(8904, LogLevel.Information, "FHIR export {JobId} of clinic {ClinicId} cancelled by {Subject} (DELETE on its status URL)")]
    public static partial void FhirExportCancelRequested(ILogger logger, Guid jobId, string clinicId, string subject);

    [LoggerMessage(8905, LogLevel.Information, "FHIR export {JobId} of clinic {ClinicId} stopped: it was cancelled; removing the {Files} files it had written")]
    public static partial void FhirExportCancelled(ILogger logger, Guid jobId, string clinicId, int files);

    [LoggerMessage(8906, LogLevel.Warning, "FHIR export file {Key} of a cancelled export could not be deleted; the bucket's lifecycle rule removes it")]
    public static partial void FhirExportDeleteFailed(ILogger logger, string key, Exception error);
}
