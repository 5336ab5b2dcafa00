namespace Edge.Contracts.Validation;

/// <summary>One reason a payload was refused: a dotted path from the document root (or <c>$</c> for the whole document) and why.</summary>
/// <param name="Field">E.g. <c>metrics.oxygen_purity_pct</c>, <c>timestamp</c>, <c>report.summary.alerts[2]</c>, or <c>$</c>.</param>
/// <param name="Reason">Words a technician can act on, e.g. <c>must be between 0 and 100 (was 140)</c>.</param>
public sealed record FieldError(string Field, string Reason)
{
    /// <summary>The whole-document field name, used for malformed JSON, bad UTF-8, size and depth.</summary>
    public const string Document = "$";

    public override string ToString() => $"{Field}: {Reason}";
}
