namespace Edge.Contracts.Validation;

/// <summary>The outcome of validating one payload: the record when it could be read, and every reason it was refused.</summary>
/// <remarks>
/// <see cref="Value"/> is also set when the document was readable but broke range rules, so a dead letter can still say
/// which device sent it; only <see cref="IsValid"/> means "accept".
/// </remarks>
public readonly record struct Validated<T>(T? Value, IReadOnlyList<FieldError> Errors)
{
    /// <summary>True when the payload was read and broke no rule.</summary>
    public bool IsValid => Value is not null && (Errors is null || Errors.Count == 0);

    /// <summary>All errors on one line for logs and dead letters, e.g. <c>metrics.oxygen_purity_pct: must be between 0 and 100 (was 140); serial: …</c>.</summary>
    public string ErrorSummary() => Errors is null || Errors.Count == 0 ? string.Empty : string.Join("; ", Errors);
}
