namespace ShadowIo.Generator.Checks;

/// <summary>Bit arithmetic shared by the checks and the emitter.</summary>
internal static class Widths
{
    public static bool IsValidAccessWidth(int width) => width is 1 or 2 or 4 or 8;

    /// <summary>Whether <paramref name="value"/> fits in <paramref name="bits"/> bits (0..64).</summary>
    public static bool Fits(ulong value, int bits) => bits >= 64 || (value >> bits) == 0;

    /// <summary>A mask of <paramref name="bits"/> low bits (0..64).</summary>
    public static ulong LowMask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>C# keyword of the unsigned type that holds a value of <paramref name="width"/> bytes.</summary>
    public static string TypeKeyword(int width) => width switch
    {
        1 => "byte",
        2 => "ushort",
        4 => "uint",
        _ => "ulong",
    };
}
