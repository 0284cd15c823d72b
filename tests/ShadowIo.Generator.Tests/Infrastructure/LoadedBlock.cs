using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace ShadowIo.Generator.Tests.Infrastructure;

/// <summary>
/// A compilation emitted to memory and loaded into a collectible context, so generated
/// dispatch can be run; the ShadowIo runtime resolves to the test's own copy.
/// </summary>
public sealed class LoadedBlock : IDisposable
{
    private readonly AssemblyLoadContext _context;
    private readonly System.Reflection.Assembly _assembly;

    private LoadedBlock(AssemblyLoadContext context, System.Reflection.Assembly assembly)
    {
        _context = context;
        _assembly = assembly;
    }

    public static LoadedBlock Load(Compilation compilation)
    {
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = compilation.Emit(image);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        image.Position = 0;
        var context = new AssemblyLoadContext("generated-block", isCollectible: true);
        return new LoadedBlock(context, context.LoadFromStream(image));
    }

    public IMmioDevice Create(string typeName) =>
        (IMmioDevice)Activator.CreateInstance(_assembly.GetType(typeName, throwOnError: true)!)!;

    public void Dispose() => _context.Unload();
}
