namespace Edge.Agent.Admin;

/// <summary>Reads and checks <c>Agent:Admin:SocketMode</c>.</summary>
internal static class AdminSocketMode
{
    /// <summary>An octal mode of 3 or 4 digits, such as 0660.</summary>
    public static bool TryParse(string text, out UnixFileMode mode)
    {
        var ok = text is { Length: 3 or 4 } && text.All(c => c is >= '0' and <= '7');
        mode = ok ? (UnixFileMode)Convert.ToInt32(text, 8) : default;
        return ok;
    }

    /// <summary>
    /// Whether the mode lets others write to the socket. Connecting to a Unix socket needs write permission, so such
    /// a mode (0666, 0662, 0777) gives the admin interface to every local account, the device simulator's and a
    /// compromised service's included.
    /// </summary>
    public static bool LetsOthersConnect(string text) =>
        TryParse(text, out var mode) && (mode & UnixFileMode.OtherWrite) != 0;
}
