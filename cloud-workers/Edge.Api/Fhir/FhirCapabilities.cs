using Hl7.Fhir.Model;
using static Hl7.Fhir.Model.CapabilityStatement;

namespace Edge.Api.Fhir;

/// <summary>The CapabilityStatement at <c>/fhir/r4/metadata</c>: what this server reads and searches, and how clients authenticate.</summary>
internal static class FhirCapabilities
{
    private static readonly DateTimeOffset Published = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

    public static CapabilityStatement Statement(string fhirBase)
    {
        var statement = new CapabilityStatement
        {
            Status = PublicationStatus.Active,
            Date = new FhirDateTime(Published).Value,
            Kind = CapabilityStatementKind.Instance,
            Name = "ClinicEdgeFhir",
            Title = "Clinic Edge FHIR R4 API",
            Publisher = "Clinic Edge",
            Description = new Markdown("Device readings (Observation panels), registered devices (Device), ECG reports (DiagnosticReport) and bulk export per clinic, read-only. See docs/fhir.md."),
            Software = new SoftwareComponent { Name = "Clinic Edge API" },
            Implementation = new ImplementationComponent { Description = "Clinic Edge cloud API, FHIR R4 read API", Url = fhirBase },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["application/fhir+json", "json"],
        };

        var rest = new RestComponent
        {
            Mode = RestfulCapabilityMode.Server,
            Documentation = new Markdown("Bearer tokens of the REST API: a role (admin, technician or clinician), the clinics, and a SMART scope system/*.read or system/{Type}.read. Clinic scoping as on the REST API; every read is in the audit log."),
            Security = new SecurityComponent
            {
                Service = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR")],
                Description = new Markdown("OAuth 2.0 bearer tokens from the API's identity provider; SMART-style system scopes."),
            },
        };
        rest.Resource.Add(Resource("Device", [("identifier", SearchParamType.Token, "The serial"), ("patient:identifier", SearchParamType.Token, "The owner's identifier"), ("_id", SearchParamType.Token, "The serial")]));
        rest.Resource.Add(Resource("Observation",
        [
            ("device", SearchParamType.Reference, "Device/{serial}"),
            ("patient:identifier", SearchParamType.Token, "The owner's identifier: the patient's devices in their current ownership period"),
            ("date", SearchParamType.Date, "The device time: ge, gt, le, lt, eq; repeat for a range"),
            ("code", SearchParamType.Token, "The panel's code or any component's (LOINC, MDC or ours)"),
            ("component-code", SearchParamType.Token, "A component's code"),
        ]));
        rest.Resource.Add(Resource("DiagnosticReport", [("device", SearchParamType.Reference, "Device/{serial} (the ECG recorder)"), ("patient:identifier", SearchParamType.Token, "The owner's identifier")]));
        rest.Resource.Add(new ResourceComponent
        {
            Type = "Group",
            Documentation = new Markdown("A clinic, for bulk export only: GET /fhir/r4/Group/{clinic}/$export."),
            Operation = [new OperationComponent { Name = "export", Definition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export" }],
        });
        statement.Rest.Add(rest);
        return statement;
    }

    private static ResourceComponent Resource(string type, (string Name, SearchParamType Type, string Documentation)[] parameters)
    {
        var resource = new ResourceComponent
        {
            Type = type,
            Interaction =
            [
                new ResourceInteractionComponent { Code = TypeRestfulInteraction.Read },
                new ResourceInteractionComponent { Code = TypeRestfulInteraction.SearchType },
            ],
            Versioning = ResourceVersionPolicy.NoVersion,
            ReadHistory = false,
            UpdateCreate = false,
        };
        foreach (var (name, type2, documentation) in parameters)
        {
            resource.SearchParam.Add(new CapabilityStatement.SearchParamComponent { Name = name, Type = type2, Documentation = new Markdown(documentation) });
        }
        resource.SearchParam.Add(new CapabilityStatement.SearchParamComponent { Name = "_count", Type = SearchParamType.Number, Documentation = new Markdown("Page size, 1-1000 (default 100)") });
        return resource;
    }
}
