using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator;

/// <summary>
/// Generates a register block's storage, doorbell table, shadow layout, typed doorbell reader,
/// MMIO dispatch and field accessors from its attributes. Layout problems are reported by
/// <see cref="RegisterBlockAnalyzer"/> at the offending attribute; for an invalid block the
/// generator emits nothing (and never throws).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RegisterBlockGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<BlockModel?> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownAttributes.RegisterBlock,
                static (node, _) => node is ClassDeclarationSyntax,
                static (context, cancellationToken) => context.TargetSymbol is INamedTypeSymbol type
                    ? Parser.Parse(type, cancellationToken).Model
                    : null)
            .WithTrackingName(TrackingNames.ParsedBlocks);

        IncrementalValuesProvider<BlockModel?> valid = parsed
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.ValidBlocks);

        context.RegisterSourceOutput(valid, static (output, model) => output.AddSource(model!.HintName, Emitter.Emit(model)));
    }
}
