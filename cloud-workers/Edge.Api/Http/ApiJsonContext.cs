using System.Text.Json.Serialization;
using Edge.Api.Accounts;
using Edge.Api.Alerts;
using Edge.Api.Analytics;
using Edge.Api.Audit;
using Edge.Api.DeadLetters;
using Edge.Api.Downlink;
using Edge.Api.GatewayCa;
using Edge.Api.Live;
using Edge.Api.Quarantine;
using Edge.Api.Registry;
using Edge.Api.Reports;
using Edge.Api.Telemetry;
using Edge.Storage.Alerts;
using Edge.Storage.Downlink;

namespace Edge.Api.Http;

/// <summary>Source-generated JSON for every API body; snake_case like the device payloads.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(Clinic))]
[JsonSerializable(typeof(CreateClinicRequest))]
[JsonSerializable(typeof(Page<Clinic>))]
[JsonSerializable(typeof(Gateway))]
[JsonSerializable(typeof(RegisterGatewayRequest))]
[JsonSerializable(typeof(Page<Gateway>))]
[JsonSerializable(typeof(GatewayCertificateRequest))]
[JsonSerializable(typeof(GatewayCertificate))]
[JsonSerializable(typeof(Device))]
[JsonSerializable(typeof(RegisterDeviceRequest))]
[JsonSerializable(typeof(TransferDeviceRequest))]
[JsonSerializable(typeof(Page<Device>))]
[JsonSerializable(typeof(Edge.Api.Fleet.GatewayEventItem))]
[JsonSerializable(typeof(Page<Edge.Api.Fleet.GatewayEventItem>))]
[JsonSerializable(typeof(TelemetryPageResponse))]
[JsonSerializable(typeof(SummaryResponse))]
[JsonSerializable(typeof(DeviceAnalyticsResponse))]
[JsonSerializable(typeof(ClinicAnalyticsResponse))]
[JsonSerializable(typeof(LiveMessage))]
[JsonSerializable(typeof(LiveAlertMessage))]
[JsonSerializable(typeof(Alert))]
[JsonSerializable(typeof(AlertPage))]
[JsonSerializable(typeof(AlertStepRequest))]
[JsonSerializable(typeof(AlertAuditSnapshot))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(CreatedWebhookSubscription))]
[JsonSerializable(typeof(WebhookSubscription))]
[JsonSerializable(typeof(IReadOnlyList<WebhookSubscription>))]
[JsonSerializable(typeof(DeadDeliveryList))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(Page<AuditEntry>))]
[JsonSerializable(typeof(ConfigVersion))]
[JsonSerializable(typeof(ConfigVersionPage))]
[JsonSerializable(typeof(CreateFirmwareJobRequest))]
[JsonSerializable(typeof(FirmwareJob))]
[JsonSerializable(typeof(ReportItem))]
[JsonSerializable(typeof(Page<ReportItem>))]
[JsonSerializable(typeof(QuarantineItem))]
[JsonSerializable(typeof(Page<QuarantineItem>))]
[JsonSerializable(typeof(RequeueInfo))]
[JsonSerializable(typeof(DeadLetterItem))]
[JsonSerializable(typeof(Page<DeadLetterItem>))]
[JsonSerializable(typeof(DeadLetterDetail))]
[JsonSerializable(typeof(RejectedReadingItem))]
[JsonSerializable(typeof(Page<RejectedReadingItem>))]
[JsonSerializable(typeof(RejectedReadingDetail))]
[JsonSerializable(typeof(User))]
[JsonSerializable(typeof(Page<User>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(SetPasswordRequest))]
[JsonSerializable(typeof(ChangeOwnPasswordRequest))]
[JsonSerializable(typeof(SignInRequest))]
[JsonSerializable(typeof(RefreshRequest))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(Me))]
[JsonSerializable(typeof(SignInAudit))]
[JsonSerializable(typeof(PasswordAudit))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
