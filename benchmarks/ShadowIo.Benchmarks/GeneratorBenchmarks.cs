using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using ShadowIo.Generator;

namespace ShadowIo.Benchmarks;

/// <summary>
/// The generator (and the layout analyzer) on a 1000-register block (issue 2 goal: generator
/// cold run under 200 ms). Each invocation gets a fresh compilation and a fresh driver, so
/// nothing is cached: binding, parsing of the attributes, checks and emission all run.
/// Parsing the source text is excluded (done once).
/// </summary>
[Config(typeof(SingleInvocationConfig))]
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    public const int RegisterCount = 1000;

    private SyntaxTree[] _trees = [];
    private ImmutableArray<MetadataReference> _references;
    private CSharpCompilation _compilation = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        _trees = [CSharpSyntaxTree.ParseText(LargeBlockSource(), options)];
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        _references = [.. Directory.GetFiles(frameworkDirectory, "*.dll")
            .Where(IsManagedAssembly)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(RegisterBlockAttribute).Assembly.Location))];
    }

    /// <summary>A compilation nothing has bound yet: the generator pays for binding the 1000 declarations and their attributes.</summary>
    [IterationSetup(Targets = [nameof(GeneratorOn1000Registers), nameof(AnalyzerOn1000Registers)])]
    public void FreshCompilation() =>
        _compilation = CSharpCompilation.Create("Bench", _trees, _references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    /// <summary>
    /// A compilation whose declarations and attributes are already bound (as the compiler binds them
    /// for its own diagnostics): what the generator adds, with no incremental cache.
    /// </summary>
    [IterationSetup(Target = nameof(GeneratorOn1000RegistersBound))]
    public void BoundCompilation()
    {
        FreshCompilation();
        _ = _compilation.GetDeclarationDiagnostics();
    }

    [Benchmark]
    public int GeneratorOn1000Registers() => RunGenerator();

    [Benchmark]
    public int GeneratorOn1000RegistersBound() => RunGenerator();

    private int RunGenerator()
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new RegisterBlockGenerator()).RunGenerators(_compilation);
        GeneratorDriverRunResult result = driver.GetRunResult();
        if (result.GeneratedTrees.Length != 1) throw new InvalidOperationException("The 1000-register block should generate one file.");
        return result.GeneratedTrees[0].Length;
    }

    [Benchmark]
    public int AnalyzerOn1000Registers()
    {
        ImmutableArray<Diagnostic> diagnostics = _compilation
            .WithAnalyzers([new RegisterBlockAnalyzer()])
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        if (!diagnostics.IsEmpty) throw new InvalidOperationException(diagnostics[0].ToString());
        return diagnostics.Length;
    }

    /// <summary>1000 four-byte registers, every fourth with three fields, and 128 doorbells above them.</summary>
    public static string LargeBlockSource()
    {
        var text = new StringBuilder();
        text.AppendLine("using ShadowIo;");
        text.AppendLine("[RegisterBlock(\"large\", 0x2000)]");
        text.AppendLine("[DoorbellArray(\"SQ tail\", 0x1000, 4, 64, 8)]");
        text.AppendLine("[DoorbellArray(\"CQ head\", 0x1004, 4, 64, 8)]");
        text.AppendLine("public sealed partial class LargeBlock");
        text.AppendLine("{");
        for (int i = 0; i < RegisterCount; i++)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"    [Register(0x{i * 4:X}, 4, Access = RegisterAccess.{(i % 3 == 0 ? "ReadOnly" : "ReadWrite")})]"));
            if (i % 4 == 0)
            {
                string mode = i % 3 == 0 ? "ReadOnly" : "WriteOneToClear";
                text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"    [Field(\"LOW\", 0, 8, Access = FieldAccess.ReadOnly)] [Field(\"MID\", 8, 8, Access = FieldAccess.{mode})] [Field(\"TOP\", 24, 8, Access = FieldAccess.ReadOnly)]"));
            }

            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"    public partial uint R{i} {{ get; set; }}"));
        }

        text.AppendLine("}");
        return text.ToString();
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
