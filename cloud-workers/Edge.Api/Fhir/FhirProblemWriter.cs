using Hl7.Fhir.Model;

namespace Edge.Api.Fhir;

/// <summary>
/// The API's problem documents under <c>/fhir/</c> (429 from the rate limiter, 500 from the exception handler, a body
/// the server could not read) written as the OperationOutcome a FHIR client parses, with the same status, title and
/// detail. Registered ahead of the default writer, which keeps every other path.
/// </summary>
internal sealed class FhirProblemWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => FhirEndpoints.IsFhirPath(context.HttpContext.Request.Path);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var diagnostics = string.Join(" ", new[] { problem.Title, problem.Detail }.Where(text => !string.IsNullOrEmpty(text)));
        var outcome = FhirResults.OutcomeOf(IssueTypeOf(status), diagnostics, severity: status >= 500 ? OperationOutcome.IssueSeverity.Fatal : OperationOutcome.IssueSeverity.Error);
        return new ValueTask(FhirResults.WriteAsync(context.HttpContext, outcome, status));
    }

    /// <summary>FHIR's issue type for an HTTP status (the R4 IssueType value set); anything unnamed is an exception.</summary>
    internal static OperationOutcome.IssueType IssueTypeOf(int status) => status switch
    {
        StatusCodes.Status400BadRequest or StatusCodes.Status422UnprocessableEntity => OperationOutcome.IssueType.Invalid,
        StatusCodes.Status401Unauthorized => OperationOutcome.IssueType.Login,
        StatusCodes.Status403Forbidden => OperationOutcome.IssueType.Forbidden,
        StatusCodes.Status404NotFound => OperationOutcome.IssueType.NotFound,
        StatusCodes.Status413PayloadTooLarge => OperationOutcome.IssueType.TooCostly,
        StatusCodes.Status429TooManyRequests => OperationOutcome.IssueType.Throttled,
        _ => OperationOutcome.IssueType.Exception,
    };
}
