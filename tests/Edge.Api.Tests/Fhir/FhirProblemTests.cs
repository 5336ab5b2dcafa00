// Firely's POCOs declare every element nullable; see FhirTest.
#nullable disable warnings
using System.Net;
using Edge.Api.Fhir;
using Edge.Testing.Postgres;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Task = System.Threading.Tasks.Task;

namespace Edge.Api.Tests.Fhir;

/// <summary>
/// The API's own refusals under <c>/fhir/</c> (the rate limiter's 429, the exception handler's 500) reach a FHIR client
/// as OperationOutcomes, not as the REST API's problem documents, which a FHIR client cannot parse.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class FhirProblemTests(PostgresServer server) : FhirTest(server)
{
    // The admin's setup spends its own budget (clinics and devices); the hammering client has a token of its own.
    private const int PermitLimit = 10;

    protected override string[] ApiSettings() =>
    [
        .. base.ApiSettings(),
        $"--Api:RateLimit:TokenPermitLimit={PermitLimit}",
        "--Api:RateLimit:WindowSeconds=600",
    ];

    [Fact]
    public async Task A_FHIR_client_over_its_rate_limit_gets_429_as_a_throttled_OperationOutcome_with_Retry_After()
    {
        using var client = Integration("north", subject: "integration-in-a-loop");
        for (var i = 0; i < PermitLimit; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{FhirEndpoints.Prefix}/Device/{Oxygen}")).StatusCode);
        }

        var refused = await client.GetAsync($"{FhirEndpoints.Prefix}/Device/{Oxygen}");

        Assert.NotNull(refused.Headers.RetryAfter);
        var outcome = await ReadOutcomeAsync(refused, HttpStatusCode.TooManyRequests);
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal(OperationOutcome.IssueType.Throttled, issue.Code);
        Assert.Contains("Api:RateLimit:TokenPermitLimit", issue.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_REST_API_keeps_problem_documents_when_it_refuses_the_same_way()
    {
        using var client = Api.Client(Api.Token("clinician", ["north"], subject: "rest-in-a-loop"));
        HttpResponseMessage last = null;
        for (var i = 0; i <= PermitLimit; i++)
        {
            last = await client.GetAsync("/v1/clinics");
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        Assert.Equal("application/problem+json", last.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/fhir/r4/Observation", true)]
    [InlineData("/FHIR/R4/metadata", true)]
    [InlineData("/v1/devices", false)]
    [InlineData("/fhirish", false)]
    public void Only_FHIR_paths_get_OperationOutcomes(string path, bool fhir)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        Assert.Equal(fhir, new FhirProblemWriter().CanWrite(new ProblemDetailsContext { HttpContext = context }));
    }

    [Fact]
    public async Task A_server_failure_under_fhir_is_a_fatal_exception_OperationOutcome_that_keeps_the_status_and_the_detail()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = $"{FhirEndpoints.Prefix}/Observation";
        using var body = new MemoryStream();
        context.Response.Body = body;

        await new FhirProblemWriter().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = 500, Title = "The server failed.", Detail = "See the API's log (event ids 8xxx) for the cause." },
        });

        Assert.Equal(500, context.Response.StatusCode);
        Assert.StartsWith(FhirResults.ContentType, context.Response.ContentType, StringComparison.Ordinal);
        var outcome = FhirValidation.Parse<OperationOutcome>(System.Text.Encoding.UTF8.GetString(body.ToArray()));
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal((OperationOutcome.IssueSeverity.Fatal, OperationOutcome.IssueType.Exception), (issue.Severity, issue.Code));
        Assert.Equal("The server failed. See the API's log (event ids 8xxx) for the cause.", issue.Diagnostics);
    }
}
