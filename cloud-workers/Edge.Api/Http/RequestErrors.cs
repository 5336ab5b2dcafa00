namespace Edge.Api.Http;

/// <summary>
/// Collects what is wrong with a request, parameter by parameter, and turns it into one RFC 7807 problem (400) whose
/// <c>errors</c> name each bad parameter and whose <c>detail</c> repeats the first, so a technician reading only the
/// detail still learns which parameter to fix.
/// </summary>
internal sealed class RequestErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string parameter, string reason)
    {
        if (!_errors.TryGetValue(parameter, out var reasons))
        {
            _errors[parameter] = reasons = [];
        }
        reasons.Add(reason);
    }

    public IResult ToResult()
    {
        var (parameter, reasons) = _errors.First();
        return TypedResults.ValidationProblem(
            _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal),
            detail: $"{parameter}: {reasons[0]}",
            title: "The request has invalid parameters.");
    }
}

/// <summary>The other problems handlers answer with, as RFC 7807 documents.</summary>
internal static class Problems
{
    public static IResult NotFound(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found.", detail: what);

    public static IResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflicts with the current state.", detail: detail);

    public static IResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: detail);

    public static IResult BadParameter(string parameter, string reason)
    {
        var errors = new RequestErrors();
        errors.Add(parameter, reason);
        return errors.ToResult();
    }
}
