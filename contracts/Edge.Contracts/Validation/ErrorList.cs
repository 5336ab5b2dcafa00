namespace Edge.Contracts.Validation;

/// <summary>Collects field errors without allocating until the first one; capped so a hostile payload cannot produce thousands.</summary>
internal struct ErrorList
{
    public const int MaxReported = 32;

    private List<FieldError>? _errors;
    private int _dropped;

    public readonly int Count => (_errors?.Count ?? 0) + _dropped;

    public void Add(string field, string reason)
    {
        _errors ??= new List<FieldError>(4);
        if (_errors.Count < MaxReported)
        {
            _errors.Add(new FieldError(field, reason));
        }
        else
        {
            _dropped++;
        }
    }

    public IReadOnlyList<FieldError> ToList()
    {
        if (_errors is null)
        {
            return Array.Empty<FieldError>();
        }
        if (_dropped > 0)
        {
            _errors.Add(new FieldError(FieldError.Document, $"{_dropped} more errors not shown"));
            _dropped = 0;
        }
        return _errors;
    }
}
