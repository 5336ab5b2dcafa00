using Microsoft.AspNetCore.Identity;

namespace Edge.Api.Accounts;

/// <summary>
/// Password hashing (ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/>: PBKDF2-HMAC-SHA512, 100,000 iterations,
/// a random salt per hash) and the password rules.
/// </summary>
internal sealed class Passwords
{
    public const int MinimumLength = 12;
    public const int MaximumLength = 128;

    private static readonly PasswordHasher<Holder> Hasher = new();
    private static readonly Holder Nobody = new();

    // A hash of a password nobody knows: an unknown username is checked against it, so answering "no such user" costs
    // what checking a real password costs and the time of the answer does not tell which usernames exist.
    private readonly string _dummyHash = Hasher.HashPassword(Nobody, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)));

    // CA1822: Hash and Verify stay instance members, beside VerifyNobody, so every use of passwords goes through the one
    // injected service (the endpoints take Passwords) rather than half through a static and half through the instance.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "One injected service for all password work; see above.")]
    public string Hash(string password) => Hasher.HashPassword(Nobody, password);

    /// <summary>Whether <paramref name="password"/> matches; <paramref name="rehash"/> when the hash uses older parameters.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "One injected service for all password work; see Hash.")]
    public bool Verify(string hash, string password, out bool rehash)
    {
        var result = Hasher.VerifyHashedPassword(Nobody, hash, password);
        rehash = result == PasswordVerificationResult.SuccessRehashNeeded;
        return result != PasswordVerificationResult.Failed;
    }

    /// <summary>Spends the work of one verification on a hash that never matches.</summary>
    public void VerifyNobody(string password) => Hasher.VerifyHashedPassword(Nobody, _dummyHash, password);

    /// <summary>Why <paramref name="password"/> may not be <paramref name="username"/>'s password, or null when it may.</summary>
    public static string? Refusal(string? password, string? username)
    {
        if (string.IsNullOrEmpty(password))
        {
            return "is required";
        }
        if (password.Length < MinimumLength || password.Length > MaximumLength)
        {
            return $"must be {MinimumLength} to {MaximumLength} characters (was {password.Length})";
        }
        if (username is not null && password.Trim().Equals(username, StringComparison.OrdinalIgnoreCase))
        {
            return "must not be the username";
        }
        return null;
    }

    /// <summary>The hasher's user type; the default hasher never looks at the user.</summary>
    private sealed class Holder;
}
