namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>Looks up a value by the name it has on the command line, in the table and in JSON.</summary>
internal static class CommandLineNames
{
    public static bool TryParse<T>(IReadOnlyList<T> all, Func<T, string> name, string text, out T value) where T : struct, Enum
    {
        foreach (var candidate in all)
        {
            if (string.Equals(name(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }
}
