using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ShadowIo.Generator;

/// <summary>
/// Reports register-map layout problems (issues 2 and 6) at the offending attribute. Runs the
/// same parser and checks as <see cref="RegisterBlockGenerator"/>, which for a block this
/// analyzer reports on emits only the implementing parts of the user's declarations (so that a
/// command-line build, where <c>csc</c> skips analyzers once declarations have errors, shows these
/// diagnostics): validation lives here so the generator's cached models never hold locations.
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
        DiagnosticDescriptors.UndefinedAccess,
        DiagnosticDescriptors.AttributeWithoutEffect,
        DiagnosticDescriptors.DuplicateDataMatch,
        DiagnosticDescriptors.WildcardBesideDataMatch,
        DiagnosticDescriptors.PortBlockTooLarge,
        DiagnosticDescriptors.PortAccessTooWide,
        DiagnosticDescriptors.UndefinedAddressSpace);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var attributes = KnownAttributeTypes.Resolve(start.Compilation);
            if (attributes is null) return;
            start.RegisterSymbolAction(symbolContext => AnalyzeType(symbolContext, attributes), SymbolKind.NamedType);
            start.RegisterSymbolAction(symbolContext => AnalyzeProperty(symbolContext, attributes), SymbolKind.Property);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, KnownAttributeTypes attributes)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        ImmutableArray<AttributeData> applied = type.GetAttributes();
        if (applied.Any(a => attributes.Is(a, attributes.RegisterBlock)))
        {
            foreach (Diagnostic diagnostic in RegisterBlockGenerator.Parser.Parse(type, context.CancellationToken).Diagnostics)
            {
                context.ReportDiagnostic(diagnostic);
            }

            return;
        }

        foreach (AttributeData attribute in applied)
        {
            if (attributes.Is(attribute, attributes.Doorbell) || attributes.Is(attribute, attributes.NotifyDoorbell) || attributes.Is(attribute, attributes.DoorbellArray))
            {
                Report(context, attribute, type, "its class has no [RegisterBlock]");
            }
        }
    }

    private static void AnalyzeProperty(SymbolAnalysisContext context, KnownAttributeTypes attributes)
    {
        var property = (IPropertySymbol)context.Symbol;
        if (property.PartialDefinitionPart is not null) return; // the generated implementing part

        // Inside a register block the parser reads every property and reports a stray [Field] itself.
        if (property.ContainingType.GetAttributes().Any(a => attributes.Is(a, attributes.RegisterBlock))) return;
        ImmutableArray<AttributeData> applied = property.GetAttributes();
        AttributeData? register = applied.FirstOrDefault(a => attributes.Is(a, attributes.Register));
        if (register is not null)
        {
            Report(context, register, property, "its class has no [RegisterBlock]");
            return;
        }

        foreach (AttributeData field in applied.Where(a => attributes.Is(a, attributes.Field)))
        {
            Report(context, field, property, "the property has no [Register]");
        }
    }

    private static void Report(SymbolAnalysisContext context, AttributeData attribute, ISymbol owner, string reason)
    {
        Location location = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken).GetLocation() ?? owner.Locations.FirstOrDefault() ?? Location.None;
        string name = attribute.AttributeClass!.Name;
        name = name.EndsWith("Attribute", System.StringComparison.Ordinal) ? name.Substring(0, name.Length - "Attribute".Length) : name;
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.AttributeWithoutEffect, location, name, owner.Name, reason));
    }

    /// <summary>The ShadowIo attribute types of one compilation, resolved once.</summary>
    private sealed class KnownAttributeTypes
    {
        public required INamedTypeSymbol RegisterBlock { get; init; }
        public required INamedTypeSymbol? Register { get; init; }
        public required INamedTypeSymbol? Field { get; init; }
        public required INamedTypeSymbol? Doorbell { get; init; }
        public required INamedTypeSymbol? NotifyDoorbell { get; init; }
        public required INamedTypeSymbol? DoorbellArray { get; init; }

        public static KnownAttributeTypes? Resolve(Compilation compilation) =>
            compilation.GetTypeByMetadataName(KnownAttributes.RegisterBlock) is { } registerBlock
                ? new KnownAttributeTypes
                {
                    RegisterBlock = registerBlock,
                    Register = compilation.GetTypeByMetadataName(KnownAttributes.Register),
                    Field = compilation.GetTypeByMetadataName(KnownAttributes.Field),
                    Doorbell = compilation.GetTypeByMetadataName(KnownAttributes.Doorbell),
                    NotifyDoorbell = compilation.GetTypeByMetadataName(KnownAttributes.NotifyDoorbell),
                    DoorbellArray = compilation.GetTypeByMetadataName(KnownAttributes.DoorbellArray),
                }
                : null;

        public bool Is(AttributeData attribute, INamedTypeSymbol? type) =>
            type is not null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, type);
    }
}
