using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ShadowIo.Generator.Emitters;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator;

/// <summary>
/// Generates a register block's storage, doorbell table, shadow layout, typed doorbell reader,
/// MMIO dispatch and field accessors from its attributes. Layout problems are reported by
/// <see cref="RegisterBlockAnalyzer"/> at the offending attribute; for an invalid block the
/// generator emits only the implementing parts the user's declarations need, so that those
/// diagnostics are the build's only errors (and it never throws).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RegisterBlockGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParsedBlock?> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownAttributes.RegisterBlock,
                static (node, _) => node is ClassDeclarationSyntax,
                static (context, cancellationToken) => context.TargetSymbol is INamedTypeSymbol type
                    ? Parser.Parse(type, cancellationToken).ToParsedBlock()
                    : null)
            .WithTrackingName(TrackingNames.ParsedBlocks);

        IncrementalValuesProvider<BlockModel> valid = parsed
            .Where(static block => block?.Valid is not null)
            .Select(static (block, _) => block!.Valid!)
            .WithTrackingName(TrackingNames.ValidBlocks);

        IncrementalValuesProvider<InvalidBlockModel> invalid = parsed
            .Where(static block => block?.Invalid is not null)
            .Select(static (block, _) => block!.Invalid!)
            .WithTrackingName(TrackingNames.InvalidBlocks);

        context.RegisterSourceOutput(valid, static (output, model) => output.AddSource(model.HintName, Emitter.Emit(model)));
        context.RegisterSourceOutput(invalid, static (output, model) => output.AddSource(model.HintName, InvalidBlockEmitter.Emit(model)));
    }
}
