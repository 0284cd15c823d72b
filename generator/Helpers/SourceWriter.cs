using System;
using System.Text;

namespace ShadowIo.Generator.Helpers;

/// <summary>
/// Builds C# source line by line with four-space indentation (the shape of System.Text.Json's
/// writer). Multi-line text is re-indented line by line, so raw string templates stay readable.
/// </summary>
public sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _text = new();

    public int Indentation { get; private set; }

    public SourceWriter WriteLine(string line)
    {
        foreach (string part in line.Replace("\r\n", "\n").Split('\n'))
        {
            if (part.Length == 0)
            {
                _text.Append('\n');
                continue;
            }

            for (int i = 0; i < Indentation; i++) _text.Append(IndentUnit);
            _text.Append(part).Append('\n');
        }

        return this;
    }

    public SourceWriter WriteLine()
    {
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/> (unless empty) and an opening brace, then indents.</summary>
    public SourceWriter OpenBlock(string header)
    {
        if (header.Length > 0) WriteLine(header);
        WriteLine("{");
        Indentation++;
        return this;
    }

    /// <summary>Dedents and writes a closing brace, followed by <paramref name="suffix"/>.</summary>
    public SourceWriter CloseBlock(string suffix = "")
    {
        if (Indentation == 0) throw new InvalidOperationException("CloseBlock without a matching OpenBlock.");
        Indentation--;
        WriteLine("}" + suffix);
        return this;
    }

    public SourceWriter Indent()
    {
        Indentation++;
        return this;
    }

    public SourceWriter Dedent()
    {
        if (Indentation == 0) throw new InvalidOperationException("Dedent below zero.");
        Indentation--;
        return this;
    }

    /// <summary>The finished text; every block must be closed.</summary>
    public string ToSourceText()
    {
        if (Indentation != 0) throw new InvalidOperationException("Unclosed block in generated source.");
        return _text.ToString();
    }
}
