using System.ComponentModel.DataAnnotations;
using Edge.Contracts.Settings;

namespace Edge.Api.Fhir;

/// <summary>The FHIR R4 API under <c>/fhir/r4/</c> (configuration section <c>Api:Fhir</c>).</summary>
internal sealed class FhirOptions
{
    public const string SectionName = "Api:Fhir";

    /// <summary>
    /// The identifier system of a device's owner, the patient reference the registry holds (<c>owner</c>): the hospital's
    /// medical record number system, so its record system matches the patient. Default <c>urn:clinic-edge:device-owner</c>.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Api:Fhir:PatientIdentifierSystem is required (an absolute URI, e.g. the hospital's MRN system).")]
    public string PatientIdentifierSystem { get; set; } = "urn:clinic-edge:device-owner";

    /// <summary>
    /// The public base URL of the API (e.g. https://api.clinic.example), for the links in Bundles, export manifests and
    /// report attachments. Default: none, the scheme and host of each request.
    /// </summary>
    [Url(ErrorMessage = "Api:Fhir:BaseUrl must be an absolute URL such as https://api.clinic.example.")]
    public string? BaseUrl { get; set; }

    /// <summary>Minutes the presigned links of a bulk export's files stay valid. Default 60; 1-10080 (7 days, the S3 limit).</summary>
    [SettingRange(1, 10080, ErrorMessage = "Api:Fhir:ExportLinkMinutes must be between 1 and 10080 (7 days, the S3 limit).")]
    public int ExportLinkMinutes { get; set; } = 60;

    /// <summary>Readings read from a store per query while exporting. Default 1000; 100-1000 (a store's page limit).</summary>
    [SettingRange(100, 1000, ErrorMessage = "Api:Fhir:ExportPageSize must be between 100 and 1000.")]
    public int ExportPageSize { get; set; } = 1000;
}
