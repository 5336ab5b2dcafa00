using System.Net;

namespace Edge.Console.Api;

/// <summary>The API refused a request; the message is its problem document's detail, which names the field.</summary>
internal sealed class ApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>The signed-in session has no usable token any more (signed out elsewhere, refresh refused): sign in again.</summary>
internal sealed class SessionEndedException() : Exception("Your session has ended; sign in again.");
