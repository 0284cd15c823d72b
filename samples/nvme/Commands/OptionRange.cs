using System.CommandLine;
using System.Globalization;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>The verbs' one range check for integer options.</summary>
internal static class OptionRange
{
    /// <summary>Rejects a value of <paramref name="option"/> outside <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static void AcceptRange(this Option<int> option, int min, int max) =>
        option.Validators.Add(result =>
        {
            // A token that is not a number is the parser's error to report; only range-check numbers.
            if (result.Tokens.Count == 0 || !int.TryParse(result.Tokens[^1].Value, CultureInfo.InvariantCulture, out int value)) return;
            if (value < min || value > max)
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} {value} is out of range: use {min}..{max}."));
        });
}
