using Microsoft.CodeAnalysis;

namespace ShadowIo.Generator;

/// <summary>Placeholder until the pipeline lands.</summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RegisterBlockGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context) { }
}
