using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace ShadowIo.Generator.Helpers;

/// <summary>Turns declared register, field and doorbell names into C# identifiers.</summary>
public static class Identifiers
{
    /// <summary>
    /// PascalCases a declared name: words split at anything that is not a letter or digit;
    /// an all-capitals word (a spec mnemonic such as "IOSQES") becomes "Iosqes", other words keep
    /// their inner casing ("SqTail" stays "SqTail"). Returns null when nothing usable remains.
    /// </summary>
    public static string? ToPascalCase(string? declared)
    {
        if (declared is null) return null;
        var result = new StringBuilder();
        var word = new StringBuilder();
        foreach (char c in declared)
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(c);
            }
            else
            {
                AppendWord(result, word);
            }
        }

        AppendWord(result, word);
        if (result.Length == 0) return null;
        if (char.IsDigit(result[0])) result.Insert(0, '_');
        string identifier = result.ToString();
        return SyntaxFacts.IsValidIdentifier(identifier) ? identifier : null;
    }

    private static void AppendWord(StringBuilder result, StringBuilder word)
    {
        if (word.Length == 0) return;
        string text = word.ToString();
        bool allCapitals = true;
        foreach (char c in text)
        {
            if (char.IsLetter(c) && !char.IsUpper(c)) allCapitals = false;
        }

        result.Append(char.ToUpperInvariant(text[0]));
        result.Append(allCapitals ? text.Substring(1).ToLowerInvariant() : text.Substring(1));
        word.Clear();
    }

    /// <summary>A name as written in source: keywords get their '@' back ("event" → "@event").</summary>
    public static string Escape(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None
            ? "@" + name
            : name;

    /// <summary>The backing field of a register property: "Cc" → "_cc".</summary>
    public static string ToStorageField(string propertyName) =>
        "_" + char.ToLowerInvariant(propertyName[0]) + propertyName.Substring(1);
}
