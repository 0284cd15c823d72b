using System.Globalization;

namespace ShadowIo.KernelGuest;

/// <summary>
/// The program's output protocol, one record per line, read by the kernel tests on the host:
/// <c>CHECK name PASS|FAIL|SKIP detail</c>, <c>PROBE ...</c>, <c>OBSERVED mode text</c>,
/// <c>EXITS mode n</c>, <c>RATE mode ...</c>, <c>REFUSED case ...</c>.
/// </summary>
internal sealed class Report
{
    private readonly TextWriter _out;

    public Report(TextWriter output) => _out = output;

    public int Failures { get; private set; }

    public void Check(string name, bool passed, string detail = "")
    {
        if (!passed) Failures++;
        Line($"CHECK {name} {(passed ? "PASS" : "FAIL")} {detail}");
    }

    public void Skip(string name, string why) => Line($"CHECK {name} SKIP {why}");

    public void Fail(string name, Exception error)
    {
        Failures++;
        Line($"CHECK {name} FAIL {error.GetType().Name}: {error.Message.ReplaceLineEndings(" ")}");
    }

    public void Line(string text)
    {
        _out.WriteLine(text.ReplaceLineEndings(" ").TrimEnd());
        _out.Flush();
    }

    public static string Hex(ulong value) => value.ToString("x", CultureInfo.InvariantCulture);

    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
