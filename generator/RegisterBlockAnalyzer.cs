using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ShadowIo.Generator;

/// <summary>
/// Reports register-map layout problems (issues 2 and 6) at the offending attribute. Runs the
/// same parser and checks as <see cref="RegisterBlockGenerator"/>, which emits nothing for a
/// block this analyzer reports on: validation lives here so the generator's cached models never
/// hold locations.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RegisterBlockAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.BlockNotPartial,
        DiagnosticDescriptors.RegisterNotPartialProperty,
        DiagnosticDescriptors.InvalidWidth,
        DiagnosticDescriptors.Misaligned,
        DiagnosticDescriptors.BeyondBlock,
        DiagnosticDescriptors.Overlap,
        DiagnosticDescriptors.StrideTooSmall,
        DiagnosticDescriptors.CountTooSmall,
        DiagnosticDescriptors.ArrayOverflow,
        DiagnosticDescriptors.DataMatchTooWide,
        DiagnosticDescriptors.TooManyDoorbells,
        DiagnosticDescriptors.ShadowTooLarge,
        DiagnosticDescriptors.PropertyTypeMismatch,
        DiagnosticDescriptors.DuplicateName,
        DiagnosticDescriptors.FieldOverlap,
        DiagnosticDescriptors.FieldBeyondRegister,
        DiagnosticDescriptors.FieldZeroWidth,
        DiagnosticDescriptors.ResetTooWide,
        DiagnosticDescriptors.EnumTooWide,
        DiagnosticDescriptors.ContradictoryModes,
        DiagnosticDescriptors.WritableFieldInReadOnlyRegister,
        DiagnosticDescriptors.InvalidName,
        DiagnosticDescriptors.UndefinedAccess);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            INamedTypeSymbol? blockAttribute = start.Compilation.GetTypeByMetadataName(KnownAttributes.RegisterBlock);
            if (blockAttribute is null) return;
            start.RegisterSymbolAction(symbolContext =>
            {
                var type = (INamedTypeSymbol)symbolContext.Symbol;
                if (!type.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, blockAttribute))) return;
                foreach (Diagnostic diagnostic in RegisterBlockGenerator.Parser.Parse(type, symbolContext.CancellationToken).Diagnostics)
                {
                    symbolContext.ReportDiagnostic(diagnostic);
                }
            }, SymbolKind.NamedType);
        });
    }
}
