using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using ShadowIo.Samples.Nvme;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>
/// The compiled form of <see cref="MemoryAccessTests"/>: walks the IL of every type in the
/// controller's namespace and fails on any pointer-typed local, parameter or field, and on any
/// call into an API that reaches raw memory. Only the two allow-listed types (the controller's own
/// doorbell page and the test/fuzz guest RAM) may; everything else can reach guest memory only
/// through <see cref="GuestMemory"/>'s bounds-checked methods and the <see cref="ShadowRegion"/>s it hands out.
/// </summary>
public sealed class CompiledMemoryAccessTests
{
    private static readonly HashSet<string> AllowedTypes = new(StringComparer.Ordinal) { nameof(PrivateDoorbellPage), nameof(GuestRam) };

    private static readonly HashSet<string> BannedDeclaringTypes = new(StringComparer.Ordinal)
    {
        "System.Runtime.CompilerServices.Unsafe",
        "System.Runtime.InteropServices.Marshal",
        "System.Runtime.InteropServices.MemoryMarshal",
        "System.Runtime.InteropServices.NativeMemory",
        "System.Runtime.InteropServices.GCHandle",
        "System.Buffer",
        "ShadowIo.MemoryMapping",
    };

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    [Fact]
    public void No_controller_method_uses_pointers_or_raw_memory_apis()
    {
        using var stream = File.OpenRead(typeof(NvmeController).Assembly.Location);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var offenders = new List<string>();
        int methods = 0;
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            string outer = OutermostName(md, type);
            if (OutermostNamespace(md, type) != "ShadowIo.Samples.Nvme" || AllowedTypes.Contains(outer)) continue;
            string typeName = md.GetString(type.Name);
            foreach (var fieldHandle in type.GetFields())
            {
                var field = md.GetFieldDefinition(fieldHandle);
                if (field.DecodeSignature(PointerDetector.Instance, null)) offenders.Add($"{typeName}.{md.GetString(field.Name)}: pointer field");
            }
            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                string name = $"{typeName}.{md.GetString(method.Name)}";
                var signature = method.DecodeSignature(PointerDetector.Instance, null);
                if (signature.ReturnType || signature.ParameterTypes.Any(p => p)) offenders.Add($"{name}: pointer in signature");
                if (method.RelativeVirtualAddress == 0) continue;
                methods++;
                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                if (!body.LocalSignature.IsNil)
                {
                    var locals = md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(PointerDetector.Instance, null);
                    if (locals.Any(l => l)) offenders.Add($"{name}: pointer local");
                }
                foreach (string callee in Callees(md, body.GetILBytes() ?? []))
                {
                    if (BannedDeclaringTypes.Contains(callee[..callee.LastIndexOf("::", StringComparison.Ordinal)]) || callee == "ShadowIo.ShadowRegion::.ctor")
                        offenders.Add($"{name}: calls {callee}");
                }
            }
        }
        Assert.True(methods > 200, $"only {methods} method bodies scanned");
        Assert.True(offenders.Count == 0, string.Join('\n', offenders));
    }

    /// <summary>"Namespace.Type::Member" for every call, callvirt, newobj, ldftn and ldvirtftn in the IL.</summary>
    private static IEnumerable<string> Callees(MetadataReader md, byte[] il)
    {
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            var op = OpCodesByValue[value];
            i += op.Size;
            if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj || op == OpCodes.Ldftn || op == OpCodes.Ldvirtftn)
            {
                var handle = MetadataTokens.EntityHandle(BitConverter.ToInt32(il, i));
                if (MemberName(md, handle) is { } callee) yield return callee;
            }
            i += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
        }
    }

    private static string? MemberName(MetadataReader md, EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.MethodSpecification:
                return MemberName(md, md.GetMethodSpecification((MethodSpecificationHandle)handle).Method);
            case HandleKind.MethodDefinition:
            {
                var m = md.GetMethodDefinition((MethodDefinitionHandle)handle);
                var t = md.GetTypeDefinition(m.GetDeclaringType());
                return $"{md.GetString(t.Namespace)}.{md.GetString(t.Name)}::{md.GetString(m.Name)}";
            }
            case HandleKind.MemberReference:
            {
                var m = md.GetMemberReference((MemberReferenceHandle)handle);
                return $"{TypeName(md, m.Parent)}::{md.GetString(m.Name)}";
            }
            default:
                return null;
        }
    }

    private static string TypeName(MetadataReader md, EntityHandle handle) => handle.Kind switch
    {
        HandleKind.TypeReference => md.GetString(md.GetTypeReference((TypeReferenceHandle)handle).Namespace) + "." + md.GetString(md.GetTypeReference((TypeReferenceHandle)handle).Name),
        HandleKind.TypeDefinition => md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)handle).Namespace) + "." + md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)handle).Name),
        HandleKind.TypeSpecification => GenericTypeName(md, (TypeSpecificationHandle)handle),
        _ => "?",
    };

    /// <summary>The generic type a specification instantiates (Span`1 for Span&lt;byte&gt;).</summary>
    private static string GenericTypeName(MetadataReader md, TypeSpecificationHandle handle)
    {
        var blob = md.GetBlobReader(md.GetTypeSpecification(handle).Signature);
        if (blob.ReadSignatureTypeCode() != SignatureTypeCode.GenericTypeInstance) return "?";
        blob.ReadSignatureTypeCode();
        return TypeName(md, blob.ReadTypeHandle());
    }

    private static TypeDefinition Outermost(MetadataReader md, TypeDefinition type)
    {
        while (type.IsNested) type = md.GetTypeDefinition(type.GetDeclaringType());
        return type;
    }

    private static string OutermostName(MetadataReader md, TypeDefinition type) => md.GetString(Outermost(md, type).Name);

    private static string OutermostNamespace(MetadataReader md, TypeDefinition type) => md.GetString(Outermost(md, type).Namespace);

    /// <summary>Decodes a signature to "does it contain a pointer or function pointer".</summary>
    private sealed class PointerDetector : ISignatureTypeProvider<bool, object?>
    {
        public static readonly PointerDetector Instance = new();

        public bool GetPointerType(bool elementType) => true;
        public bool GetFunctionPointerType(MethodSignature<bool> signature) => true;
        public bool GetArrayType(bool elementType, ArrayShape shape) => elementType;
        public bool GetByReferenceType(bool elementType) => elementType;
        public bool GetGenericInstantiation(bool genericType, ImmutableArray<bool> typeArguments) => genericType || typeArguments.Any(t => t);
        public bool GetGenericMethodParameter(object? genericContext, int index) => false;
        public bool GetGenericTypeParameter(object? genericContext, int index) => false;
        public bool GetModifiedType(bool modifier, bool unmodifiedType, bool isRequired) => unmodifiedType;
        public bool GetPinnedType(bool elementType) => true;
        public bool GetPrimitiveType(PrimitiveTypeCode typeCode) => false;
        public bool GetSZArrayType(bool elementType) => elementType;
        public bool GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => false;
        public bool GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => false;
        public bool GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => false;
    }
}
