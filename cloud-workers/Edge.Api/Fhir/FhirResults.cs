using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using FhirResource = Hl7.Fhir.Model.Resource;
using Task = System.Threading.Tasks.Task;

namespace Edge.Api.Fhir;

/// <summary>Writes FHIR resources as <c>application/fhir+json</c> with Firely's serializer, and OperationOutcomes for refusals.</summary>
internal static class FhirResults
{
    public const string ContentType = "application/fhir+json";

    /// <summary>The SDK's serializer: reflection metadata built once, thread-safe.</summary>
    public static readonly BaseFhirJsonSerializer Serializer = new(ModelInfo.ModelInspector);

    public static IResult Ok(FhirResource resource, int status = StatusCodes.Status200OK) => new FhirJsonResult(resource, status);

    /// <summary>400 naming the parameter and why, as an OperationOutcome issue with the parameter in <c>expression</c>.</summary>
    public static IResult BadParameter(string parameter, string reason) =>
        Outcome(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Invalid, $"{parameter}: {reason}", parameter);

    public static IResult NotFound(string what) =>
        Outcome(StatusCodes.Status404NotFound, OperationOutcome.IssueType.NotFound, what);

    public static IResult Forbidden(string why) =>
        Outcome(StatusCodes.Status403Forbidden, OperationOutcome.IssueType.Forbidden, why);

    public static IResult Outcome(
        int status, OperationOutcome.IssueType type, string diagnostics, string? expression = null, OperationOutcome.IssueSeverity severity = OperationOutcome.IssueSeverity.Error) =>
        new FhirJsonResult(OutcomeOf(type, diagnostics, expression, severity), status);

    public static OperationOutcome OutcomeOf(OperationOutcome.IssueType type, string diagnostics, string? expression = null, OperationOutcome.IssueSeverity severity = OperationOutcome.IssueSeverity.Error)
    {
        var issue = new OperationOutcome.IssueComponent { Severity = severity, Code = type, Diagnostics = diagnostics };
        if (expression is not null)
        {
            issue.Expression = [expression];
        }
        return new OperationOutcome { Issue = [issue] };
    }

    /// <summary>Writes <paramref name="resource"/> as one JSON object (no indentation: NDJSON lines and responses alike).</summary>
    public static void Write(FhirResource resource, Utf8JsonWriter writer) => Serializer.Serialize(resource, writer);

    public static async Task WriteAsync(HttpContext context, FhirResource resource, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType + "; charset=utf-8";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            Write(resource, writer);
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private sealed class FhirJsonResult(FhirResource resource, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, resource, status);
    }
}
